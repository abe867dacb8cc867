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
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return }
        last[source] = trimmed
        if Self.isFinal(trimmed) {
            final[source] = trimmed
        } else if let log = LogLine(parsing: Substring(trimmed)), ["error", "critical"].contains(log.level) {
            lastError[source] = log.metadata["error"].map { "\(log.message): \($0)" } ?? log.message
        }
    }

    /// The line that best says why `source` failed, or nil if it printed nothing.
    func reason(for source: String) -> String? {
        final[source] ?? lastError[source] ?? last[source]
    }

    private static func isFinal(_ line: String) -> Bool {
        line.hasPrefix("Error: ") || line.contains("Fatal error:") || line.contains("Assertion failed")
    }
}
