import Foundation

/// `sextant status`'s terminal view of a ``ServerStatus``: a summary line and a table of
/// clients, plain text (no colours) so it reads the same in a log file.
package enum StatusText {
    package static func render(_ status: ServerStatus) -> String {
        var lines: [String] = []
        let accuracy = status.accuracy.map { String(format: "%.2f%%", $0 * 100) } ?? "n/a"
        var summary = "run \(status.runID)  \(status.status)  version \(status.modelVersion)/\(status.maxVersions)"
        summary += "  accuracy \(accuracy)"
        if let epsilon = status.epsilon {
            summary += String(format: "  epsilon %.3f", epsilon)
            if let guarantee = status.guarantee { summary += " (\(guarantee))" }
        }
        summary += "  scheduler \(status.scheduler)  up \(duration(status.uptimeSeconds))"
        lines.append(summary)
        if let evaluation = status.federatedEvaluation {
            lines.append(
                "federated evaluation of version \(evaluation.version) (\(evaluation.sites) sites, \(evaluation.records) records): \(describe(evaluation.metrics))"
            )
        }
        if let secure = status.secureAggregation {
            lines.append(
                "secure aggregation: \(secure.cohortsCompleted) cohorts unmasked, \(secure.cohortsAbandoned) abandoned, \(secure.membersDropped) members dropped, \(secure.cohortsOpen) open"
            )
        }
        lines.append("\(status.clients.count) client\(status.clients.count == 1 ? "" : "s")")
        guard !status.clients.isEmpty else { return lines.joined(separator: "\n") + "\n" }
        let header = ["CLIENT", "SAMPLES", "PEER", "LAST SEEN", "S/STEP", "GROUP", "STEPS"]
        let rows = status.clients.map { client in
            [
                client.name, "\(client.samples)", client.peer ?? "?", duration(client.idleSeconds) + " ago",
                client.secondsPerStep.map { String(format: "%.3f", $0) } ?? "-",
                client.arrivalGroup.map(String.init) ?? "-", client.assignedSteps.map(String.init) ?? "-",
            ]
        }
        lines += table([header] + rows)
        return lines.joined(separator: "\n") + "\n"
    }

    /// `accuracy 0.9123  loss 0.2514`, sorted by name.
    package static func describe(_ metrics: [String: Double]) -> String {
        metrics.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.4f", $0.value))" }
            .joined(separator: "  ")
    }

    /// "42s", "3m05s", "2h01m": short enough for a table cell.
    package static func duration(_ seconds: Double) -> String {
        let total = Int(max(0, seconds).rounded(.down))
        if total < 60 { return "\(total)s" }
        if total < 3600 { return String(format: "%dm%02ds", total / 60, total % 60) }
        return String(format: "%dh%02dm", total / 3600, (total % 3600) / 60)
    }

    /// Left-aligned columns, two spaces apart.
    static func table(_ rows: [[String]]) -> [String] {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }
}
