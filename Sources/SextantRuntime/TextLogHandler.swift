import Foundation
import Logging

/// Writes each log event as one text line (`--log-format text`, the default):
/// `time level label: key=value ... [source] message`, the layout of swift-log's stream
/// handler, so that terminals and `sextant launch` read what they always read.
///
/// Metadata and messages carry strings that clients chose (without CURVE a client names
/// itself): control characters, line and paragraph separators in them are written as
/// escapes (`\n`, `\r`, `\t`, `\u{1B}`), so that no value can start a line of its own or
/// drive the terminal (docs/design.md 10).
package struct TextLogHandler: LineLogHandler {
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
        let pairs = fields.sorted { $0.key < $1.key }.map { Self.escaped($0.key) + "=" + Self.escaped("\($0.value)") }
        let context = pairs.isEmpty ? "" : " " + pairs.joined(separator: " ")
        let labelPart = label.isEmpty ? "" : " \(Self.escaped(label))"
        write(
            "\(Self.timestamp()) \(event.level)\(labelPart):\(context) [\(Self.escaped(event.source))] "
                + Self.escaped("\(event.message)"))
    }

    /// `text` with every character that could break or restyle a line written as an escape.
    static func escaped(_ text: String) -> String {
        let needsEscape: (Unicode.Scalar) -> Bool = {
            $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\u{2028}" || $0 == "\u{2029}"
        }
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else {
                result.append(scalar)
                continue
            }
            let escape: String
            switch scalar {
            case "\n": escape = "\\n"
            case "\r": escape = "\\r"
            case "\t": escape = "\\t"
            default: escape = "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            }
            result.append(contentsOf: escape.unicodeScalars)
        }
        return String(result)
    }

    /// Local time to the second with its offset (`2026-05-01T12:00:00+0200`), as the
    /// stream handler writes it.
    static func timestamp() -> String {
        var now = time(nil)
        var local = tm()
        guard localtime_r(&now, &local) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
