import Foundation

/// The line that says why each process failed, picked from its output as it streams by:
/// the executable's last words (`Error: ...` from the argument parser, a Swift fatal error,
/// a libzmq assertion), else its last error-level log line, else its last line. Not
/// Sendable: the launcher's event loop owns it.
struct FailureLines {
    private var final: [String: String] = [:]
    private var lastError: [String: String] = [:]
    private var last: [String: String] = [:]

    mutating func ingest(source: String, line: String) {
        ingest(source: source, line: Substring(line), parsed: LogLine(parsing: Substring(line)))
    }

    /// ``ingest(source:line:)`` with the line parsed once by the caller.
    mutating func ingest(source: String, line: Substring, parsed: LogLine?) {
        let bytes = line.utf8
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = bytes.firstIndex(where: { !isBlank($0) }), let end = bytes.lastIndex(where: { !isBlank($0) })
        else { return }
        let text = String(line[first...end])
        last[source] = text
        if Self.isFinal(text) {
            final[source] = text
        } else if let log = parsed, log.level == "error" || log.level == "critical" {
            lastError[source] = log.metadata["error"].map { "\(log.message): \($0)" } ?? log.message
        }
    }

    /// The line that best says why `source` failed, or nil if it printed nothing.
    func reason(for source: String) -> String? {
        final[source] ?? lastError[source] ?? last[source]
    }

    private static func isFinal(_ line: String) -> Bool {
        line.hasPrefix("Error: ") || contains(line, "Fatal error:") || contains(line, "Assertion failed")
    }

    /// Whether `text` holds `part`: a byte search, as every line of every child passes here
    /// (log lines too: `Swift/Array.swift:1: Fatal error: ...` has the shape of one).
    private static func contains(_ text: String, _ part: StaticString) -> Bool {
        var text = text
        let needle = UnsafeBufferPointer(start: part.utf8Start, count: part.utf8CodeUnitCount)
        return text.withUTF8 { bytes in
            guard bytes.count >= needle.count else { return false }
            for start in 0...(bytes.count - needle.count) where bytes[start] == needle[0] {
                var index = 1
                while index < needle.count, bytes[start + index] == needle[index] { index += 1 }
                if index == needle.count { return true }
            }
            return false
        }
    }
}
