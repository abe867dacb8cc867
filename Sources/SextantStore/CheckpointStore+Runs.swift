import GRDB

extension CheckpointStore {
    /// Creates a run and its checkpoint version 0 (the initial model) in one transaction.
    @discardableResult
    package func startRun(
        id: String, config: String, fingerprint: String, initialParameters: [Float]
    ) throws -> Run {
        let started = now
        try write("start run '\(id)'") { db in
            try db.execute(
                sql: """
                    INSERT INTO runs (id, config, fingerprint, parameter_count, started, status)
                    VALUES (?, ?, ?, ?, ?, 'running')
                    """,
                arguments: [id, config, fingerprint, initialParameters.count, started])
            try insertCheckpoint(
                db, run: id, version: 0, parameters: initialParameters, metrics: [:], epsilon: nil)
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

    /// Inserts one checkpoint row; the SHA-256 is computed from the exact bytes stored.
    func insertCheckpoint(
        _ db: Database, run: String, version: Int, parameters: [Float],
        metrics: [String: Double], epsilon: Double?
    ) throws {
        let blob = ParameterBlob.encode(parameters)
        try db.execute(
            sql: """
                INSERT INTO checkpoints
                    (run, version, created, parameters, count, dtype, sha256, metrics, epsilon)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                run, version, now, blob, parameters.count, ParameterBlob.dtype,
                ParameterBlob.sha256Hex(blob), try StoreJSON.encode(metrics), epsilon,
            ])
    }
}
