import SextantRuntime
import SextantServer

/// What the HTTP endpoint and the signal handler reach the federation server through.
///
/// The endpoint starts before the server exists (a taken metrics port should fail before
/// the database is touched), so the server arrives later; until then `/status` has
/// nothing to show. A SIGTERM or SIGINT that comes before the server exists (while the
/// sites agree on preprocessing, or while the database opens) is kept and carried out as
/// soon as it is attached, so a stop is never lost between start-up and the service group.
actor ServerHandle {
    private var server: FederationServer?
    private var stopRequested = false

    func attach(_ server: FederationServer) async {
        self.server = server
        if stopRequested { await server.stop() }
    }

    /// Stops the server, now or as soon as it exists.
    func requestStop() async {
        stopRequested = true
        await server?.stop()
    }

    func status() async -> ServerStatus? {
        await server?.status()
    }
}
