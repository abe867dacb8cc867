import Foundation
import Logging

/// Logger set-up shared by the executables (libraries only ever take a `logger:`).
public enum LogSetup {
    /// Bootstraps swift-log once for the process, writing to standard error.
    public static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// Parses a level name, or fails naming the allowed ones.
    public static func level(named name: String) throws -> Logger.Level {
        guard let level = Logger.Level(rawValue: name.lowercased()) else {
            throw RuntimeError(
                .invalidConfiguration,
                "unknown log level '\(name)'; use \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return level
    }
}
