import SextantRuntime
import SextantServer

/// What the HTTP endpoint reaches the federation server through.
///
/// The endpoint starts before the server exists (a taken metrics port should fail before
/// the database is touched), so the server arrives later; until then `/status` has
/// nothing to show.
actor ServerHandle {
    private var server: FederationServer?

    func attach(_ server: FederationServer) {
        self.server = server
    }

    func status() async -> ServerStatus? {
        await server?.status()
    }
}
