import GRDB

extension CheckpointStore {
    /// The newest checkpoint of a run (what a restarted server resumes from), or nil.
    package func latestCheckpoint(run: String) throws -> Checkpoint? {
        try read("read the latest checkpoint of run '\(run)'") { db in
            try Row.fetchOne(
                db,
                sql:
                    "SELECT \(Checkpoint.columns) FROM checkpoints WHERE run = ? ORDER BY version DESC LIMIT 1",
                arguments: [run]
            ).map { try Checkpoint(row: $0, blobs: blobs) }
        }
    }

    /// One checkpoint, or nil if it was never written or has been pruned.
    package func checkpoint(run: String, version: Int) throws -> Checkpoint? {
        try read("read checkpoint \(version) of run '\(run)'") { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Checkpoint.columns) FROM checkpoints WHERE run = ? AND version = ?",
                arguments: [run, version]
            ).map { try Checkpoint(row: $0, blobs: blobs) }
        }
    }

    /// The versions stored for a run, ascending.
    package func checkpointVersions(run: String) throws -> [Int] {
        try read("list checkpoint versions of run '\(run)'") { db in
            try Int.fetchAll(
                db, sql: "SELECT version FROM checkpoints WHERE run = ? ORDER BY version",
                arguments: [run])
        }
    }

    /// Every checkpoint of a run without its parameters, ascending by version.
    package func checkpointSummaries(run: String) throws -> [CheckpointSummary] {
        try read("list checkpoints of run '\(run)'") { db in
            try Row.fetchAll(
                db,
                sql: "SELECT \(CheckpointSummary.columns) FROM checkpoints WHERE run = ? ORDER BY version",
                arguments: [run]
            ).map(CheckpointSummary.init(row:))
        }
    }

    /// Calls `body` with each checkpoint of a run in ascending version order, decoding one
    /// at a time so that only one parameter vector is in memory (the audit walks every
    /// round this way). The walk sees one consistent snapshot, even while the server
    /// commits. `body` must not call back into the store; return `false` to stop early.
    /// An error `body` throws ends the walk and is rethrown as it is.
    package func forEachCheckpoint(
        run: String, fromVersion: Int = 0, _ body: (Checkpoint) throws -> Bool
    ) throws {
        var bodyError: (any Error)?
        try read("read checkpoints of run '\(run)'") { db in
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT \(Checkpoint.columns) FROM checkpoints
                    WHERE run = ? AND version >= ? ORDER BY version
                    """,
                arguments: [run, fromVersion])
            while let row = try rows.next() {
                let checkpoint = try Checkpoint(row: row, blobs: blobs)
                do {
                    guard try body(checkpoint) else { return }
                } catch {
                    bodyError = error
                    return
                }
            }
        }
        if let bodyError { throw bodyError }
    }

    /// Deletes checkpoints outside the retention policy and returns the deleted versions.
    /// Kept: version 0, the latest, every version divisible by `keepEvery` and the
    /// `keepLast` newest. With both nil everything is kept (the default: the audit needs
    /// the model after each round). A checkpoint's file is removed once no row names it; space
    /// a blob held in SQLite is reused by later rows, the database does not shrink without a
    /// VACUUM.
    @discardableResult
    package func prune(run: String, keepEvery: Int? = nil, keepLast: Int? = nil) throws -> [Int] {
        if let keepEvery, keepEvery < 1 {
            throw StoreError(code: .invalidData, "keep_every must be at least 1, not \(keepEvery)")
        }
        if let keepLast, keepLast < 0 {
            throw StoreError(code: .invalidData, "keep_last must not be negative, not \(keepLast)")
        }
        guard keepEvery != nil || keepLast != nil else { return [] }
        let (removed, files) = try write("prune checkpoints of run '\(run)'") { db in
            let versions = try Int.fetchAll(
                db, sql: "SELECT version FROM checkpoints WHERE run = ? ORDER BY version",
                arguments: [run])
            var keep: Set<Int> = [0]
            if let latest = versions.last { keep.insert(latest) }
            if let keepLast { keep.formUnion(versions.suffix(keepLast)) }
            if let keepEvery { keep.formUnion(versions.filter { $0 % keepEvery == 0 }) }
            let removed = versions.filter { !keep.contains($0) }
            let files = try removed.flatMap { version in
                try deleteCheckpoints(db, run: run, where: "version = ?", arguments: [version])
            }
            return (removed, files)
        }
        removeUnreferencedBlobs(files)
        if !removed.isEmpty {
            logger.info("pruned checkpoints", metadata: ["run": "\(run)", "removed": "\(removed.count)"])
        }
        return removed
    }
}

extension CheckpointStore {
    /// What ``resume(run:discardingState:)`` found: the checkpoint to resume from, the newer
    /// versions that failed their check and were skipped, and what became of the updates
    /// that depended on them. Sendable.
    package struct Resumption: Sendable {
        /// The newest sound checkpoint, or nil if the run has none.
        package var checkpoint: Checkpoint?
        /// The damaged versions passed over, newest first, with what is wrong with each.
        package var skipped: [VerificationReport.CheckpointProblem]
        /// Acknowledged updates, not yet applied, trained on a skipped version: discarded.
        package var discardedPending: Int = 0
        /// Updates that only the skipped versions contained: their contribution is lost.
        package var lostApplied: Int = 0
    }

    /// The newest checkpoint of `run` whose blob matches its count, dtype and SHA-256, and
    /// the damaged newer ones passed over (docs/design.md 10). Only reads.
    package func latestSoundCheckpoint(run: String) throws -> Resumption {
        try read("find the newest sound checkpoint of run '\(run)'") { db in
            try newestSound(db, run: run)
        }
    }

    /// Prepares `run` for a restarted server: finds the newest sound checkpoint and, if newer
    /// ones are damaged, sets them aside in one transaction so that the next version can be
    /// committed over them: the damaged checkpoints are deleted, buffered updates trained on
    /// them are discarded (they cannot be applied to an older model), updates applied only
    /// in them are marked discarded, and the `staleKeys` of the scheduler state (saved at
    /// the damaged version) are deleted. With nothing damaged nothing changes.
    package func resume(run: String, discardingState staleKeys: Set<String>) throws -> Resumption {
        var released: [ReleasedDelta] = []
        let found = try write("resume run '\(run)' from its newest sound checkpoint") { db in
            var found = try newestSound(db, run: run)
            guard let sound = found.checkpoint, !found.skipped.isEmpty else { return found }
            let version = sound.version
            released = try deleteCheckpoints(db, run: run, where: "version > ?", arguments: [version]).map(
                ReleasedDelta.file)
            let pending = try Int64.fetchAll(
                db, sql: "SELECT id FROM updates WHERE run = ? AND state = 'buffered' AND base_version > ?",
                arguments: [run, version])
            released += try pending.compactMap { id in
                try finishUpdate(db, run: run, id: id, sql: "state = 'discarded'", arguments: [])
            }
            try db.execute(
                sql: """
                    UPDATE updates SET state = 'discarded', applied_version = NULL, staleness = NULL
                    WHERE run = ? AND state = 'applied' AND applied_version > ?
                    """,
                arguments: [run, version])
            found.discardedPending = pending.count
            found.lastAppliedChanges(db.changesCount)
            for key in staleKeys.sorted() {
                try db.execute(
                    sql: "DELETE FROM scheduler_state WHERE run = ? AND key = ?", arguments: [run, key])
            }
            return found
        }
        remove(released)
        return found
    }

    /// Walks the checkpoints of `run` from the newest down to the first sound one.
    private func newestSound(_ db: Database, run: String) throws -> Resumption {
        var result = Resumption(checkpoint: nil, skipped: [])
        let versions = try Int.fetchAll(
            db, sql: "SELECT version FROM checkpoints WHERE run = ? ORDER BY version DESC", arguments: [run])
        for version in versions {
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: "SELECT \(Checkpoint.columns), dtype FROM checkpoints WHERE run = ? AND version = ?",
                    arguments: [run, version])
            else { continue }
            if let problem = try checkpointProblem(row) {
                result.skipped.append(problem)
                continue
            }
            result.checkpoint = try Checkpoint(row: row, blobs: blobs)
            break
        }
        return result
    }
}

extension CheckpointStore.Resumption {
    fileprivate mutating func lastAppliedChanges(_ count: Int) { lostApplied = count }
}
