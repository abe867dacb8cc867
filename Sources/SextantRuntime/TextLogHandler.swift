import Foundation
import Logging

/// Writes each log event as one text line (`--log-format text`, the default):
/// `time level label: key=value ... [source] message`, the layout of swift-log's stream
/// handler, so that terminals and `sextant launch` read what they always read.
public struct TextLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    private let label: String
    private let write: @Sendable (String) -> Void

    public init(label: String, write: @escaping @Sendable (String) -> Void = JSONLogHandler.writeToStandardError) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        let pairs = fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let context = pairs.isEmpty ? "" : " " + pairs.joined(separator: " ")
        let labelPart = label.isEmpty ? "" : " \(label)"
        write("\(Self.timestamp()) \(event.level)\(labelPart):\(context) [\(event.source)] \(event.message)")
    }

    /// Local time to the second with its offset, as the stream handler writes it.
    static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ssZ"
        return formatter.string(from: Date())
    }
}
