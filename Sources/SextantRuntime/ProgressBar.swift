import Foundation

/// A one-line progress bar on a terminal; plain lines, at most one per `step`, otherwise,
/// so that logs stay readable when output goes to a file or CI.
package struct ProgressBar: Sendable {
    package let total: Int
    package let label: String
    package let isTerminal: Bool
    private var lastLine = -1

    package init(total: Int, label: String, isTerminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.total = max(total, 1)
        self.label = label
        self.isTerminal = isTerminal
    }

    /// Redraws the bar at `done` of `total` with a trailing status text.
    package mutating func update(_ done: Int, status: String = "") {
        guard isTerminal else { return }
        let width = 30
        let filled = min(width, done * width / total)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let percent = min(100, done * 100 / total)
        FileHandle.standardError.write(
            Data("\r\(label) [\(bar)] \(String(format: "%3d", percent))% \(status)\u{1B}[K".utf8))
        lastLine = done
    }

    /// Ends the bar's line (on a terminal) or prints `line` as a log line.
    package func finish(_ line: String) {
        if isTerminal {
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        }
        print(line)
        fflush(nil)
    }
}
