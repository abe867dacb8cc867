import Foundation
import GRDB

extension CheckpointStore {
    /// Records a received update, with its delta if given, in one transaction. Call it
    /// before acknowledging the update: once this returns, a crash cannot lose it.
    ///
    /// An update with the same run, client and sequence as an earlier one is a retry: it
    /// is not stored again, and `.duplicate` carries the first one's id.
    package func recordUpdate(_ update: UpdateSubmission) throws -> RecordOutcome {
        guard let delta = update.delta else { return try insertUpdate(update, delta: nil) }
        return try delta.withUnsafeBufferPointer { try recordUpdate(update, delta: $0) }
    }

    /// ``recordUpdate(_:)`` with the delta read in place from `delta` (the buffer it was
    /// received in), with no copy of ours: it is appended to the delta segments and synced
    /// before the row that refers to it commits (docs/design.md 6).
    package func recordUpdate(_ update: UpdateSubmission, delta: UnsafeBufferPointer<Float>) throws -> RecordOutcome {
        try recording(
            [UnsafeRawBufferPointer(delta)], "record update \(update.sequence) of client '\(update.client)'"
        ) { db, deltas in
            [try insertUpdate(db, update, id: nil, delta: deltas[0], received: now)]
        }[0]
    }

    /// Stores `deltas` (``storeDeltas(_:)``), then inserts their rows with `insert` in one
    /// transaction. If that fails, or for a row that turned out a retry of a stored update,
    /// what was written for the delta is released (``remove(_:)``).
    func recording(
        _ deltas: [UnsafeRawBufferPointer], _ action: String,
        insert: (Database, [StoredBlob]) throws -> [RecordOutcome]
    ) throws -> [RecordOutcome] {
        let stored = try storeDeltas(deltas)
        let outcomes: [RecordOutcome]
        do {
            outcomes = try write(action) { db in try insert(db, stored) }
        } catch {
            remove(stored.compactMap(\.released))
            throw error
        }
        // Retries whose first copy is stored already: what they wrote is extra.
        remove(zip(outcomes, stored).compactMap { outcome, delta in outcome.isDuplicate ? delta.released : nil })
        return outcomes
    }

    /// Inserts the update's row without a delta, in one transaction.
    private func insertUpdate(_ update: UpdateSubmission, delta: StoredBlob?) throws -> RecordOutcome {
        try write("record update \(update.sequence) of client '\(update.client)'") { db in
            try insertUpdate(db, update, id: nil, delta: delta, received: now)
        }
    }

    /// Inserts one update's row (with `id`, or the next autoincremented one) and its
    /// delta's, inside the caller's transaction; a retry of a stored update inserts nothing.
    func insertUpdate(
        _ db: Database, _ update: UpdateSubmission, id: Int64?, delta: StoredBlob?, received: Double
    ) throws -> RecordOutcome {
        try db.execute(
            sql: """
                INSERT INTO updates (id, run, client, sequence, base_version, steps,
                    compute_seconds, samples, norm_before, norm_after, received, state)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'buffered')
                ON CONFLICT (run, client, sequence) DO NOTHING
                """,
            arguments: [
                id, update.run, update.client, update.sequence, update.baseVersion, update.steps,
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
        switch delta {
        case .inline(let bytes):
            try db.execute(
                sql: "INSERT INTO buffered_updates (update_id, count, delta) VALUES (?, ?, ?)",
                arguments: [id, bytes.count / MemoryLayout<Float>.size, bytes])
        case .file(let sha256, let count):
            try db.execute(
                sql: "INSERT INTO update_files (update_id, count, sha256) VALUES (?, ?, ?)",
                arguments: [id, count, sha256])
        case .segment(let record):
            try db.execute(
                sql: "INSERT INTO update_segments (update_id, segment, offset, count, crc32c) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, record.segment, record.offset, record.count, Int64(record.crc32c)])
        case nil:
            break
        }
        return .stored(id)
    }

    /// Updates that were acknowledged but not yet aggregated, oldest first, with their
    /// deltas: what a restarted server puts back into its buffers.
    package func pendingUpdates(run: String) throws -> [StoredUpdate] {
        try read("read pending updates of run '\(run)'") { db in
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT \(StoredUpdate.columns), b.delta, f.sha256 AS file_sha256, f.count AS file_count,
                        \(Self.segmentColumns)
                    FROM updates u LEFT JOIN buffered_updates b ON b.update_id = u.id
                    LEFT JOIN update_files f ON f.update_id = u.id
                    LEFT JOIN update_segments s ON s.update_id = u.id
                    WHERE u.run = ? AND u.state = 'buffered' ORDER BY u.id
                    """,
                arguments: [run])
            var updates: [StoredUpdate] = []
            while let row = try rows.next() {
                var delta = try row.withUnsafeData(named: "delta") { try $0.map(ParameterBlob.decode) }
                if let sha256: String = try row.decode(forColumn: "file_sha256") {
                    delta = try replayable(
                        blobs.read(sha256: sha256, count: try row.decode(forColumn: "file_count")), row: row)
                } else if let record = try Self.segmentRecord(row) {
                    delta = try replayable(segments.read(record), row: row)
                }
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
        let released = try write("discard updates of run '\(run)'") { db in
            try ids.compactMap { id in
                try finishUpdate(db, run: run, id: id, sql: "state = 'discarded'", arguments: [])
            }
        }
        remove(released)
    }

    /// The columns of a delta's `update_segments` row (joined as `s`), as ``segmentRecord(_:)`` reads them.
    static let segmentColumns =
        "s.segment AS segment, s.offset AS segment_offset, s.count AS segment_count, s.crc32c AS segment_crc32c"

    /// Where a row of ``segmentColumns`` says its delta is, or nil if it names no segment.
    static func segmentRecord(_ row: Row) throws -> SegmentRecord? {
        guard let segment: Int64 = try row.decode(forColumn: "segment") else { return nil }
        let crc: Int64 = try row.decode(forColumn: "segment_crc32c")
        return SegmentRecord(
            segment: segment, offset: try row.decode(forColumn: "segment_offset"),
            count: try row.decode(forColumn: "segment_count"), crc32c: UInt32(truncatingIfNeeded: crc))
    }

    /// The delta of a pending update stored in a file or a segment, or nil (logged) if it is
    /// missing or damaged: that update cannot be replayed, and `checkpoints verify` names it.
    private func replayable(_ read: Result<[Float], BlobProblem>, row: Row) throws -> [Float]? {
        switch read {
        case .success(let values):
            return values
        case .failure(let problem):
            let id: Int64 = try row.decode(forColumn: "id")
            logger.error(
                "acknowledged update cannot be replayed: \(problem.message)", metadata: ["update": "\(id)"])
            return nil
        }
    }

    /// Removes, after the transaction that dropped their last rows has committed, the blob
    /// files no row refers to any more (two identical deltas, or a delta and a checkpoint,
    /// share one file).
    func removeUnreferencedBlobs(_ sha256s: [String]) {
        guard !sha256s.isEmpty else { return }
        let unreferenced = try? read("find unreferenced blob files") { db in
            try sha256s.filter { sha256 in
                try Int.fetchOne(db, sql: Self.fileReferences, arguments: [sha256, sha256]) == 0
            }
        }
        // Left in place when unsure: the next opening removes whatever no row names.
        blobs.remove(unreferenced ?? [])
    }

    /// Recycles, after the transaction that dropped their last rows has committed, the
    /// segments among `numbers`, and those closed since they were checked, that no row names
    /// any more (but not the one appends go to): `DeltaSegments` keeps a few to write over.
    func removeUnreferencedSegments(_ numbers: Set<Int64>) {
        let candidates = segments.candidates(numbers)
        guard !candidates.isEmpty else { return }
        let referenced = try? read("find unreferenced delta segments") { db in
            try Set(
                candidates.filter { number in
                    try Bool.fetchOne(
                        db, sql: "SELECT EXISTS (SELECT 1 FROM update_segments WHERE segment = ?)", arguments: [number])
                        ?? true
                })
        }
        // Left in place when unsure: the next opening removes whatever no row names.
        guard let referenced else { return }
        segments.removeUnreferenced(candidates) { referenced.contains($0) }
    }

    /// Moves one buffered update to its final state and drops its delta; returns the file
    /// or segment that held it, if any, to remove once the transaction commits.
    @discardableResult
    func finishUpdate(
        _ db: Database, run: String, id: Int64, sql assignments: String, arguments: StatementArguments
    ) throws -> ReleasedDelta? {
        try db.execute(
            sql: "UPDATE updates SET \(assignments) WHERE run = ? AND id = ? AND state = 'buffered'",
            arguments: arguments + [run, id])
        guard db.changesCount == 1 else {
            throw StoreError(
                code: .invalidData, "\(path): update \(id) of run '\(run)' is not buffered")
        }
        try db.execute(sql: "DELETE FROM buffered_updates WHERE update_id = ?", arguments: [id])
        if let segment = try Int64.fetchOne(
            db, sql: "SELECT segment FROM update_segments WHERE update_id = ?", arguments: [id])
        {
            try db.execute(sql: "DELETE FROM update_segments WHERE update_id = ?", arguments: [id])
            return .segment(segment)
        }
        let file = try String.fetchOne(db, sql: "SELECT sha256 FROM update_files WHERE update_id = ?", arguments: [id])
        guard let file else { return nil }
        try db.execute(sql: "DELETE FROM update_files WHERE update_id = ?", arguments: [id])
        return .file(file)
    }

    /// How many rows name the file of a SHA-256 (bound twice): update deltas and checkpoints.
    private static let fileReferences = """
        SELECT (SELECT count(*) FROM update_files WHERE sha256 = ?)
            + (SELECT count(*) FROM checkpoints WHERE sha256 = ? AND parameters IS NULL)
        """
}
