import Foundation
import SextantRuntime
import SextantServer

/// The HTML page at `/`: the status as two tables, reloaded by the browser every 2 s
/// (a meta refresh: no script, no external assets, so it works offline and air-gapped).
package enum StatusPage {
    package static let refreshSeconds = 2

    /// The page for `status`, or a "starting" page that reloads until there is one.
    package static func render(_ status: ServerStatus?) -> String {
        guard let status else {
            return """
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="\(refreshSeconds)">
                <title>Sextant</title></head><body><p>The federation server is starting.</p></body></html>

                """
        }
        let summary: [(String, String)] = [
            ("run", status.runID),
            ("status", status.status),
            ("model version", "\(status.modelVersion) of \(status.maxVersions)"),
            ("test accuracy", status.accuracy.map { String(format: "%.2f%%", $0 * 100) } ?? "n/a"),
            ("epsilon", status.epsilon.map { String(format: "%.3f", $0) } ?? "no differential privacy"),
            ("scheduler", status.scheduler),
            ("uptime", StatusText.duration(status.uptimeSeconds)),
            ("clients", "\(status.clients.count)"),
        ]
        let summaryRows = summary.map { "<tr><th>\(escape($0.0))</th><td>\(escape($0.1))</td></tr>" }
        let clientRows = status.clients.map { client in
            let cells = [
                client.name, "\(client.samples)", client.peer ?? "?", StatusText.duration(client.idleSeconds) + " ago",
                client.secondsPerStep.map { String(format: "%.3f", $0) } ?? "-",
                client.arrivalGroup.map(String.init) ?? "-", client.assignedSteps.map(String.init) ?? "-",
            ]
            return "<tr>" + cells.map { "<td>\(escape($0))</td>" }.joined() + "</tr>"
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="refresh" content="\(refreshSeconds)">
            <title>Sextant \(escape(status.runID))</title>
            <style>
            body { font-family: sans-serif; margin: 2em; }
            table { border-collapse: collapse; margin-bottom: 1.5em; }
            th, td { text-align: left; padding: 0.2em 0.8em; border-bottom: 1px solid #ddd; }
            </style></head><body>
            <h1>Sextant federation</h1>
            <table>\(summaryRows.joined())</table>
            <h2>Clients</h2>
            <table><tr><th>name</th><th>samples</th><th>peer</th><th>last seen</th><th>s/step</th><th>arrival group</th><th>steps</th></tr>
            \(clientRows.joined(separator: "\n"))
            </table>
            <p><a href="/status">status as JSON</a> · <a href="/metrics">Prometheus metrics</a></p>
            </body></html>

            """
    }

    /// Client names come from the network (they are ZeroMQ routing ids): never markup.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
