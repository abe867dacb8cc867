import Foundation
import GRDB

extension CheckpointStore {
    /// Records a received update, with its delta if given, in one transaction. Call it
    /// before acknowledging the update: once this returns, a crash cannot lose it.
    ///
    /// An update with the same run, client and sequence as an earlier one is a retry: it
    /// is not stored again, and `.duplicate` carries the first one's id.
    package func recordUpdate(_ update: UpdateSubmission) throws -> RecordOutcome {
        guard let delta = update.delta else { return try recordUpdate(update, deltaBytes: nil) }
        return try delta.withUnsafeBufferPointer { try recordUpdate(update, delta: $0) }
    }

    /// ``recordUpdate(_:)`` with the delta read in place from `delta` (the buffer it was
    /// received in): the bytes are bound to SQLite without a copy of ours.
    package func recordUpdate(_ update: UpdateSubmission, delta: UnsafeBufferPointer<Float>) throws -> RecordOutcome {
        guard let base = delta.baseAddress else { return try recordUpdate(update, deltaBytes: Data()) }
        // Valid for the duration of the call, which is all SQLite's binding needs.
        let bytes = Data(
            bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: delta.count * MemoryLayout<Float>.size,
            deallocator: .none)
        return try recordUpdate(update, deltaBytes: bytes)
    }

    private func recordUpdate(_ update: UpdateSubmission, deltaBytes: Data?) throws -> RecordOutcome {
        let received = now
        return try write("record update \(update.sequence) of client '\(update.client)'") { db in
            try db.execute(
                sql: """
                    INSERT INTO updates (run, client, sequence, base_version, steps,
                        compute_seconds, samples, norm_before, norm_after, received, state)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'buffered')
                    ON CONFLICT (run, client, sequence) DO NOTHING
                    """,
                arguments: [
                    update.run, update.client, update.sequence, update.baseVersion, update.steps,
                    update.computeSeconds, update.samples, update.normBefore, update.normAfter,
                    received,
                ])
            guard db.changesCount == 1 else {
                let existing = try Int64.fetchOne(
                    db, sql: "SELECT id FROM updates WHERE run = ? AND client = ? AND sequence = ?",
                    arguments: [update.run, update.client, update.sequence])
                guard let existing else {
                    throw StoreError(code: .ioFailure, "\(path): update was neither stored nor found")
                }
                return .duplicate(existing)
            }
            let id = db.lastInsertedRowID
            if let deltaBytes {
                try db.execute(
                    sql: "INSERT INTO buffered_updates (update_id, count, delta) VALUES (?, ?, ?)",
                    arguments: [id, deltaBytes.count / MemoryLayout<Float>.size, deltaBytes])
            }
            return .stored(id)
        }
    }

    /// Updates that were acknowledged but not yet aggregated, oldest first, with their
    /// deltas: what a restarted server puts back into its buffers.
    package func pendingUpdates(run: String) throws -> [StoredUpdate] {
        try read("read pending updates of run '\(run)'") { db in
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT \(StoredUpdate.columns), b.delta
                    FROM updates u LEFT JOIN buffered_updates b ON b.update_id = u.id
                    WHERE u.run = ? AND u.state = 'buffered' ORDER BY u.id
                    """,
                arguments: [run])
            var updates: [StoredUpdate] = []
            while let row = try rows.next() {
                let delta = try row.withUnsafeData(named: "delta") { try $0.map(ParameterBlob.decode) }
                updates.append(try StoredUpdate(row: row, delta: delta))
            }
            return updates
        }
    }

    /// The id of the update a client sent with this sequence number, if it was stored: a
    /// retry of an acknowledged update (its ack was lost) is acknowledged again.
    package func storedUpdateID(run: String, client: String, sequence: Int) throws -> Int64? {
        try read("look up update \(sequence) of client '\(client)'") { db in
            try Int64.fetchOne(
                db, sql: "SELECT id FROM updates WHERE run = ? AND client = ? AND sequence = ?",
                arguments: [run, client, sequence])
        }
    }

    /// Every update of a run in arrival order, without deltas (history and reports).
    package func updates(run: String) throws -> [StoredUpdate] {
        try read("read updates of run '\(run)'") { db in
            try Row.fetchAll(
                db, sql: "SELECT \(StoredUpdate.columns) FROM updates u WHERE u.run = ? ORDER BY u.id",
                arguments: [run]
            ).map { try StoredUpdate(row: $0, delta: nil) }
        }
    }

    /// Marks buffered updates as discarded and drops their deltas, in one transaction.
    /// Throws (changing nothing) if one of them is not buffered.
    package func discardUpdates(run: String, ids: [Int64]) throws {
        try write("discard updates of run '\(run)'") { db in
            for id in ids {
                try finishUpdate(db, run: run, id: id, sql: "state = 'discarded'", arguments: [])
            }
        }
    }

    /// Moves one buffered update to its final state and drops its delta.
    func finishUpdate(
        _ db: Database, run: String, id: Int64, sql assignments: String, arguments: StatementArguments
    ) throws {
        try db.execute(
            sql: "UPDATE updates SET \(assignments) WHERE run = ? AND id = ? AND state = 'buffered'",
            arguments: arguments + [run, id])
        guard db.changesCount == 1 else {
            throw StoreError(
                code: .invalidData, "\(path): update \(id) of run '\(run)' is not buffered")
        }
        try db.execute(sql: "DELETE FROM buffered_updates WHERE update_id = ?", arguments: [id])
    }
}
