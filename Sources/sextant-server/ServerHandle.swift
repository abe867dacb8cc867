import SextantRuntime
import SextantServer

/// What the signal handler and the HTTP endpoint reach the federation server through.
///
/// The endpoint starts before the server exists (a taken metrics port should fail before
/// the database is touched), so the server arrives later; until then `/status` has
/// nothing to show. After the run, ``linger(seconds:)`` keeps the process (and its
/// endpoint) alive for a last scrape, and a signal cuts that short.
actor ServerHandle {
    private var server: FederationServer?
    private var isStopping = false
    private var lingering: Task<Void, Never>?

    func attach(_ server: FederationServer) {
        self.server = server
    }

    func status() async -> ServerStatus? {
        await server?.status()
    }

    /// SIGTERM/SIGINT: stop the run, or end the lingering after it.
    func stop() async {
        isStopping = true
        lingering?.cancel()
        await server?.stop()
    }

    func linger(seconds: Double) async {
        guard seconds > 0, !isStopping else { return }
        let task = Task<Void, Never> { try? await Task.sleep(for: .seconds(seconds)) }
        lingering = task
        await task.value
    }
}
