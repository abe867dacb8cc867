import ServiceLifecycle
import SextantRuntime
import SextantServer
import Synchronization

/// ``FederationServer``'s `run()` and `stop()` as a service of `sextant-server`'s group
/// (docs/design.md): a graceful shutdown (SIGTERM, SIGINT) stops the run, which tells the
/// clients and marks the run stopped; once the run has ended, the service keeps the group
/// (and so the HTTP endpoint) up for `lingerSeconds`, for a last scrape, unless a
/// graceful shutdown cuts that short.
final class FederationService: Service, Sendable {
    private let server: FederationServer
    private let lingerSeconds: Double
    private let outcome = Mutex<Result<FederationServer.Summary, any Error>?>(nil)

    init(server: FederationServer, lingerSeconds: Double) {
        self.server = server
        self.lingerSeconds = lingerSeconds
    }

    /// The run's summary, or the error that ended it; nil while it has not ended.
    var result: Result<FederationServer.Summary, any Error>? { outcome.withLock { $0 } }

    func run() async throws {
        let server = server
        do {
            let summary = try await withGracefulShutdownHandler {
                try await server.run()
            } onGracefulShutdown: {
                Task { await server.stop() }
            }
            outcome.withLock { $0 = .success(summary) }
        } catch {
            outcome.withLock { $0 = .failure(error) }
            throw error
        }
        guard lingerSeconds > 0 else { return }
        let seconds = lingerSeconds
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(seconds)) }
    }
}

/// The service group ended without the federation run having ended (it cannot, short of
/// a bug: the run ends the group).
struct FederationServiceError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
