import GRDB

extension CheckpointStore {
    /// Adds metrics to a committed checkpoint's (federated evaluation arrives after the
    /// commit). The parameters and their SHA-256 are untouched; a key already present is
    /// replaced. Returns false when the checkpoint no longer exists (pruned).
    @discardableResult
    package func addMetrics(run: String, version: Int, _ metrics: [String: Double]) throws -> Bool {
        try write("add metrics to checkpoint \(run)@\(version)") { db in
            guard
                let text = try String.fetchOne(
                    db, sql: "SELECT metrics FROM checkpoints WHERE run = ? AND version = ?",
                    arguments: [run, version])
            else { return false }
            let merged = try StoreJSON.decode([String: Double].self, from: text).merging(metrics) { _, new in new }
            try db.execute(
                sql: "UPDATE checkpoints SET metrics = ? WHERE run = ? AND version = ?",
                arguments: [StoreJSON.padded(try StoreJSON.encode(merged), to: text.utf8.count), run, version])
            return true
        }
    }
}
