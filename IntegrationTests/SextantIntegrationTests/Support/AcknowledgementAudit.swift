import Foundation
import SextantStore

/// The check every fault-injection test ends with: each update a client logged as
/// acknowledged must be in the server's updates table, and applied or discarded, not left
/// buffered, once the run is over (docs/design.md 6: an acknowledged update is never lost).
///
/// A client may have run as several processes (killed and started again); each process's
/// log is read under the client's name, since update ids are unique across restarts.
struct AcknowledgementAudit: CustomStringConvertible {
    /// `update acknowledged` lines read from the clients' logs.
    var acknowledged = 0
    /// Distinct (client, update id) pairs among them: a retried update is acknowledged twice.
    var distinctAcknowledged = 0
    /// Rows of the run's updates table.
    var stored = 0
    /// Acknowledged updates that are not in the table.
    var missing: [String] = []
    /// Acknowledged updates still buffered after the run.
    var leftBuffered: [String] = []

    var isLossless: Bool { missing.isEmpty && leftBuffered.isEmpty }

    /// Reads `update acknowledged ... update=<id>` lines from each (client name, log text).
    init(logs: [(client: String, text: String)], updates: [StoredUpdate]) throws {
        let stored = Dictionary(
            updates.map { ("\($0.client)#\($0.sequence)", $0) }, uniquingKeysWith: { first, _ in first })
        self.stored = updates.count
        var seen = Set<String>()
        for (client, text) in logs {
            for line in LogLines.all(in: text, containing: "update acknowledged") {
                guard let id = LogLines.value(of: "update", in: line).flatMap(UInt64.init) else {
                    throw AuditError(message: "no update id in \(line)")
                }
                acknowledged += 1
                let key = "\(client)#\(Int(truncatingIfNeeded: id))"
                guard seen.insert(key).inserted else { continue }
                guard let update = stored[key] else {
                    missing.append(key)
                    continue
                }
                if update.state == .buffered { leftBuffered.append(key) }
            }
        }
        distinctAcknowledged = seen.count
    }

    var description: String {
        "\(acknowledged) acks (\(distinctAcknowledged) distinct updates), \(stored) stored, "
            + "\(missing.count) missing \(missing.prefix(5)), \(leftBuffered.count) left buffered \(leftBuffered.prefix(5))"
    }

    struct AuditError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
