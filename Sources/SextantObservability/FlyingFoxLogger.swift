import FlyingSocks
import Logging
import Synchronization

/// FlyingFox's log lines through swift-log. It reports every connection opening and
/// closing at "info", which a scrape every few seconds would turn into noise: those go to
/// debug. Its stop is a cancellation that it reports as a critical "server error"; once
/// ``ObservabilityServer/stop()`` has begun, that is expected and goes to debug too.
/// A class: the flag is shared by the copy FlyingFox holds and the one that stops it.
final class FlyingFoxLogger: FlyingSocks.Logging, Sendable {
    let logger: Logger
    private let stopping = Atomic<Bool>(false)

    init(logger: Logger) {
        self.logger = logger
    }

    func markStopping() {
        stopping.store(true, ordering: .relaxed)
    }

    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    func logDebug(_ debug: @autoclosure () -> String) { logger.trace("\(debug())") }
    func logInfo(_ info: @autoclosure () -> String) { logger.debug("\(info())") }
    func logWarning(_ warning: @autoclosure () -> String) { logger.warning("\(warning())") }
    func logError(_ error: @autoclosure () -> String) { log(.error, error()) }
    func logCritical(_ critical: @autoclosure () -> String) { log(.error, critical()) }

    private func log(_ level: Logger.Level, _ message: String) {
        logger.log(level: isStopping ? .debug : level, "\(message)")
    }
}
