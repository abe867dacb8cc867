import FlyingSocks
import Logging

/// FlyingFox's log lines through swift-log. It reports every connection opening and
/// closing at "info", which a scrape every few seconds would turn into noise: those go to
/// debug, its warnings and errors keep their level.
struct FlyingFoxLogger: FlyingSocks.Logging {
    let logger: Logger

    func logDebug(_ debug: @autoclosure () -> String) { logger.trace("\(debug())") }
    func logInfo(_ info: @autoclosure () -> String) { logger.debug("\(info())") }
    func logWarning(_ warning: @autoclosure () -> String) { logger.warning("\(warning())") }
    func logError(_ error: @autoclosure () -> String) { logger.error("\(error())") }
    func logCritical(_ critical: @autoclosure () -> String) { logger.error("\(critical())") }
}
