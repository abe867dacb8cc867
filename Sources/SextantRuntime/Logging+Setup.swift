import Foundation
import Logging

/// Logger set-up shared by the executables (libraries only ever take a `logger:`).
public enum LogSetup {
    /// Bootstraps swift-log once for the process, writing to standard error as text lines
    /// (`text`, for terminals and `sextant launch`) or JSON lines (`json`, for collectors).
    public static func bootstrap(level: Logger.Level, format: String = "text") throws {
        switch format {
        case "text":
            LoggingSystem.bootstrap { label in
                var handler = TextLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        case "json":
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        default:
            throw RuntimeError(.invalidConfiguration, "unknown log format '\(format)'; use text or json")
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
