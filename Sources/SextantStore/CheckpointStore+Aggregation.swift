import Foundation
import GRDB

extension CheckpointStore {
    /// Commits one aggregation event in a single transaction: the new checkpoint (with the
    /// SHA-256 of its parameters; from `fileThreshold` bytes on in a file beside the
    /// database, docs/design.md 6), its metrics with those `awaitingMetrics` returns once the
    /// parameters are written (the server's evaluation, computed meanwhile), the applied updates (version, staleness; their deltas are
    /// dropped) and the scheduler's state. If anything fails (a version that exists
    /// already, an update that is not buffered, a full disk) nothing of it is saved and
    /// the `StoreError` says why.
    package func commitAggregation(
        run: String, version: Int, parameters: [Float], metrics: [String: Double] = [:],
        epsilon: Double? = nil, appliedUpdates: [AppliedUpdate],
        schedulerState: [String: Data] = [:], awaitingMetrics: () throws -> [String: Double] = { [:] }
    ) throws {
        // A large model is written to its file (and synced) before the transaction begins;
        // metrics still being computed meanwhile are awaited then.
        var late: [String: Double] = [:]
        let released = try parameters.withUnsafeBytes { bytes in
            try writing(
                bytes, "commit version \(version) of run '\(run)'", beforeCommit: { late = try awaitingMetrics() }
            ) {
                db, stored in
                try requireParameterCount(db, run: run, count: parameters.count)
                try insertCheckpoint(
                    db, run: run, version: version, parameters: stored,
                    metrics: metrics.merging(late) { _, awaited in awaited }, epsilon: epsilon)
                let released = try appliedUpdates.compactMap { update in
                    try finishUpdate(
                        db, run: run, id: update.id,
                        sql: "state = 'applied', applied_version = ?, staleness = ?",
                        arguments: [version, update.staleness])
                }
                try upsertSchedulerState(db, run: run, state: schedulerState)
                return released
            }
        }
        remove(released)
        logger.debug(
            "committed aggregation",
            metadata: ["run": "\(run)", "version": "\(version)", "updates": "\(appliedUpdates.count)"])
    }

    /// Saves scheduler state outside an aggregation (a group formed, a client left).
    package func saveSchedulerState(run: String, state: [String: Data]) throws {
        try write("save scheduler state of run '\(run)'") { db in
            try upsertSchedulerState(db, run: run, state: state)
        }
    }

    /// The scheduler's saved state: key to opaque value, as last saved.
    package func schedulerState(run: String) throws -> [String: Data] {
        try read("read scheduler state of run '\(run)'") { db in
            var state: [String: Data] = [:]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT key, value FROM scheduler_state WHERE run = ?", arguments: [run])
            while let row = try rows.next() {
                state[try row.decode(forColumn: "key")] = try row.decode(forColumn: "value")
            }
            return state
        }
    }

    private func upsertSchedulerState(_ db: Database, run: String, state: [String: Data]) throws {
        let updated = now
        for (key, value) in state {
            try db.execute(
                sql: """
                    INSERT INTO scheduler_state (run, key, value, updated) VALUES (?, ?, ?, ?)
                    ON CONFLICT (run, key) DO UPDATE SET value = excluded.value,
                        updated = excluded.updated
                    """,
                arguments: [run, key, value, updated])
        }
    }

    /// A checkpoint must have the run's parameter count; anything else is a bug upstream.
    private func requireParameterCount(_ db: Database, run: String, count: Int) throws {
        guard
            let expected = try Int.fetchOne(
                db, sql: "SELECT parameter_count FROM runs WHERE id = ?", arguments: [run])
        else {
            throw StoreError(code: .notFound, "\(path): no run '\(run)'")
        }
        guard expected == count else {
            throw StoreError(
                code: .invalidData,
                "\(path): run '\(run)' has \(expected) parameters, the new checkpoint \(count)")
        }
    }
}
