import FlyingSocks
import Logging
import Synchronization

/// FlyingFox's log lines through swift-log. It reports every connection opening and
/// closing at "info", which a scrape every few seconds would turn into noise: those go to
/// debug. Its errors are worth an operator's attention only while it serves: a failed
/// bind at start becomes the startup error that names the key, and its stop is a
/// cancellation that it reports as a critical "server error"; both go to debug.
/// A class: the flag is shared by the copy FlyingFox holds and the one that stops it.
final class FlyingFoxLogger: FlyingSocks.Logging, Sendable {
    let logger: Logger
    private let serving = Atomic<Bool>(false)

    init(logger: Logger) {
        self.logger = logger
    }

    /// Whether errors are reported as such (between listening and stopping).
    var isServing: Bool {
        get { serving.load(ordering: .relaxed) }
        set { serving.store(newValue, ordering: .relaxed) }
    }

    func logDebug(_ debug: @autoclosure () -> String) { logger.trace("\(debug())") }
    func logInfo(_ info: @autoclosure () -> String) { logger.debug("\(info())") }
    func logWarning(_ warning: @autoclosure () -> String) { logger.warning("\(warning())") }
    func logError(_ error: @autoclosure () -> String) { log(error()) }
    func logCritical(_ critical: @autoclosure () -> String) { log(critical()) }

    private func log(_ message: String) {
        logger.log(level: isServing ? .error : .debug, "\(message)")
    }
}
