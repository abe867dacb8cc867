import Foundation
import Logging

/// Writes each log event as one JSON object per line (`--log-format json`), for log
/// collectors: `time`, `level`, `label`, `message`, `source`, then the metadata.
package struct JSONLogHandler: LineLogHandler {
    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?
    package var logLevel: Logger.Level = .info
    private let label: String
    private let write: @Sendable (String) -> Void

    package init(label: String, write: @escaping @Sendable (String) -> Void = JSONLogHandler.writeToStandardError) {
        self.label = label
        self.write = write
    }

    package func log(event: LogEvent) {
        let fields = metadata(for: event)
        var object: [String: String] = fields.mapValues { "\($0)" }
        object["time"] = ISO8601DateFormatter().string(from: Date())
        object["level"] = event.level.rawValue
        object["label"] = label
        object["message"] = "\(event.message)"
        object["source"] = event.source
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(object) else { return }
        write(String(decoding: data, as: UTF8.self))
    }

    @Sendable package static func writeToStandardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
