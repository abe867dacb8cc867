import Foundation
import SextantRuntime

/// The combined progress view of `sextant launch`: one panel redrawn on a terminal, or
/// one line per notable event otherwise (CI logs, files).
struct LaunchView {
    struct ClientRow {
        var tasks = 0
        var lastLoss: String = "-"
        var lastSeconds: String = "-"
        var state = "starting"
    }

    let isTerminal: Bool
    var version = 0
    var accuracy: String = "-"
    var serverState = "starting"
    var clients: [String: ClientRow] = [:]
    private var drawnLines = 0

    init(isTerminal: Bool) {
        self.isTerminal = isTerminal
    }

    /// From `accuracy 0.9780  loss 0.05 ...`: the accuracy as a percentage, else the first
    /// metric as written.
    static func accuracyOrFirst(_ metrics: String) -> String? {
        let words = metrics.split(separator: " ", omittingEmptySubsequences: true)
        if let index = words.firstIndex(of: "accuracy"), index + 1 < words.count, let value = Double(words[index + 1]) {
            return String(format: "%.2f%% (federated)", value * 100)
        }
        return words.count >= 2 ? "\(words[0]) \(words[1]) (federated)" : nil
    }

    /// Updates the state from one line of process `source`; returns a plain line to print
    /// when not on a terminal.
    mutating func ingest(source: String, line: Substring) -> String? {
        ingest(source: source, line: line, parsed: LogLine(parsing: line))
    }

    /// ``ingest(source:line:)`` with the line parsed once by the caller.
    mutating func ingest(source: String, line: Substring, parsed: LogLine?) -> String? {
        if source == "server" {
            guard let log = parsed else {
                // The server's final summary is a plain line.
                return line.hasPrefix("run ") ? "server: \(line)" : nil
            }
            switch log.message {
            case "serving":
                serverState =
                    log.metadata["resumed"].map { $0 == "no" ? "serving" : "resumed from version \($0)" } ?? "serving"
                return "server: \(serverState) on \(log.metadata["bind"] ?? "?")"
            case "aggregated":
                version = Int(log.metadata["version"] ?? "") ?? version
                accuracy =
                    log.metadata["accuracy"].flatMap(Double.init).map { String(format: "%.2f%%", $0 * 100) } ?? accuracy
                let epsilon = log.metadata["epsilon"].flatMap { $0 == "none" ? nil : ", epsilon \($0)" } ?? ""
                // Sites' own data has no server test set: federated evaluation reports instead.
                let tested = log.metadata["accuracy"] == nil ? "" : "accuracy \(accuracy), "
                return
                    "version \(version): \(tested)\(log.metadata["updates"] ?? "?") updates, max staleness \(log.metadata["staleness"] ?? "?")\(epsilon)"
            case "federated evaluation":
                if let value = log.metadata["metrics"].flatMap(Self.accuracyOrFirst) { accuracy = value }
                return
                    "version \(log.metadata["version"] ?? "?") at \(log.metadata["sites"] ?? "?") sites (\(log.metadata["records"] ?? "?") validation records): \(log.metadata["metrics"] ?? "")"
            case "arrival group":
                let members = (log.metadata["members"] ?? "").split(separator: ",").map { entry in
                    let parts = entry.split(separator: ":")
                    return parts.count == 2
                        ? "\(parts[0]) \(parts[1].replacingOccurrences(of: "@", with: " steps at ")) per step"
                        : String(entry)
                }
                return
                    "  group \(log.metadata["group"] ?? "?") (due in \(log.metadata["expected_in"] ?? "?") s): \(members.joined(separator: ", "))"
            case "client joined", "client rejoined", "client left", "client silent, counting it as lost":
                return "server: \(log.message) \(log.metadata["client"] ?? "")"
            default:
                if ["warning", "error", "critical"].contains(log.level) {
                    return "server \(log.level): \(log.metadata["error"] ?? "") \(log.message)"
                }
                if log.level == "notice" { return "server: \(log.message)" }
                return nil
            }
        }
        guard let log = parsed else {
            if line.contains(": done after") || line.contains(": serverStopped") || line.contains(": interrupted") {
                clients[source, default: ClientRow()].state = "finished"
                return String(line)
            }
            return nil
        }
        var row = clients[source, default: ClientRow()]
        defer { clients[source] = row }
        switch log.message {
        case "training":
            row.state = "training \(log.metadata["steps"] ?? "?") steps on v\(log.metadata["version"] ?? "?")"
        case "update ready":
            row.lastLoss = log.metadata["loss"] ?? "-"
            row.lastSeconds = log.metadata["seconds"] ?? "-"
            row.state = "update ready"
        case "update acknowledged":
            row.tasks += 1
            row.state = "update acknowledged"
        case "connecting":
            row.state = "connecting"
        default:
            if ["warning", "error", "critical"].contains(log.level) { return "\(source) \(log.level): \(log.message)" }
        }
        return nil
    }

    /// Redraws the panel in place.
    mutating func draw() {
        guard isTerminal else { return }
        var lines = ["server: \(serverState)   version \(version)   test accuracy \(accuracy)"]
        lines.append("client        tasks   last loss   s/task   state")
        for name in clients.keys.sorted(by: Self.naturalOrder) {
            let row = clients[name]!
            lines.append(
                name.padding(toLength: 12, withPad: " ", startingAt: 0)
                    + String(
                        format: "%7d   %9@   %6@   ", row.tasks, row.lastLoss as NSString, row.lastSeconds as NSString)
                    + row.state)
        }
        var output = drawnLines > 0 ? "\u{1B}[\(drawnLines)F" : ""
        output += lines.map { $0 + "\u{1B}[K" }.joined(separator: "\n") + "\n"
        FileHandle.standardError.write(Data(output.utf8))
        drawnLines = lines.count
    }

    static func naturalOrder(_ a: String, _ b: String) -> Bool {
        a.compare(b, options: .numeric) == .orderedAscending
    }
}
