import Foundation
import GRDB

extension CheckpointStore {
    /// Creates a run and its checkpoint version 0 (the initial model) in one transaction.
    @discardableResult
    package func startRun(
        id: String, config: String, fingerprint: String, initialParameters: [Float]
    ) throws -> Run {
        let started = now
        try initialParameters.withUnsafeBytes { bytes in
            try writing(bytes, "start run '\(id)'") { db, stored in
                try db.execute(
                    sql: """
                        INSERT INTO runs (id, config, fingerprint, parameter_count, started, status)
                        VALUES (?, ?, ?, ?, ?, 'running')
                        """,
                    arguments: [id, config, fingerprint, initialParameters.count, started])
                try insertCheckpoint(db, run: id, version: 0, parameters: stored, metrics: [:], epsilon: nil)
            }
        }
        logger.info(
            "started run",
            metadata: ["run": "\(id)", "parameters": "\(initialParameters.count)"])
        return Run(
            id: id, config: config, fingerprint: fingerprint,
            parameterCount: initialParameters.count, started: .init(timeIntervalSince1970: started),
            status: .running)
    }

    /// The run with this id, or nil.
    package func run(id: String) throws -> Run? {
        try read("read run '\(id)'") { db in
            try Row.fetchOne(db, sql: "SELECT \(Run.columns) FROM runs WHERE id = ?", arguments: [id])
                .map(Run.init(row:))
        }
    }

    /// The most recently started run, or nil in a new database. A restarted server
    /// resumes this run if it is still `running`.
    package func latestRun() throws -> Run? {
        try read("read the latest run") { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Run.columns) FROM runs ORDER BY started DESC, rowid DESC LIMIT 1"
            ).map(Run.init(row:))
        }
    }

    /// All runs, oldest first.
    package func runs() throws -> [Run] {
        try read("list runs") { db in
            try Row.fetchAll(db, sql: "SELECT \(Run.columns) FROM runs ORDER BY started, rowid")
                .map(Run.init(row:))
        }
    }

    /// Sets a run's status; any status but `running` also records when it finished.
    package func markRun(id: String, status: Run.Status) throws {
        let finished: Double? = status == .running ? nil : now
        try write("mark run '\(id)' \(status.rawValue)") { db in
            try db.execute(
                sql: "UPDATE runs SET status = ?, finished = ? WHERE id = ?",
                arguments: [status.rawValue, finished, id])
            guard db.changesCount == 1 else {
                throw StoreError(code: .notFound, "\(path): no run '\(id)'")
            }
        }
    }

    /// Inserts one checkpoint row. Its SHA-256 is that of the exact bytes stored: hashed here
    /// for a blob, while it was written for a file (whose name it is).
    func insertCheckpoint(
        _ db: Database, run: String, version: Int, parameters: StoredBlob,
        metrics: [String: Double], epsilon: Double?
    ) throws {
        let (blob, sha256, count): (Data?, String, Int)
        switch parameters {
        case .inline(let bytes):
            (blob, sha256, count) = (bytes, ParameterBlob.sha256Hex(bytes), bytes.count / MemoryLayout<Float>.size)
        case .file(let name, let values):
            (blob, sha256, count) = (nil, name, values)
        case .segment:
            // Only deltas are appended to segments (`storeDeltas`); checkpoints go through `writing`.
            throw StoreError(code: .invalidData, "\(path): checkpoint \(version) cannot be stored in a delta segment")
        }
        try db.execute(
            sql: """
                INSERT INTO checkpoints
                    (run, version, created, count, dtype, sha256, metrics, epsilon, parameters)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                run, version, now, count, ParameterBlob.dtype, sha256,
                StoreJSON.padded(try StoreJSON.encode(metrics), to: StoreJSON.metricsReserve), epsilon, blob,
            ])
    }

    /// Deletes the checkpoints of `run` that `condition` selects, inside the caller's
    /// transaction; returns the SHA-256s of the files that held their parameters, to remove
    /// once it commits (``removeUnreferencedBlobs(_:)``).
    func deleteCheckpoints(
        _ db: Database, run: String, where condition: String, arguments: StatementArguments
    ) throws -> [String] {
        let files = try String.fetchAll(
            db, sql: "SELECT sha256 FROM checkpoints WHERE run = ? AND parameters IS NULL AND \(condition)",
            arguments: [run] + arguments)
        try db.execute(sql: "DELETE FROM checkpoints WHERE run = ? AND \(condition)", arguments: [run] + arguments)
        return files
    }
}
