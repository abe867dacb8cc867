import Foundation
import GRDB

extension CheckpointStore {
    /// Checks the whole file: SQLite's `integrity_check` and `foreign_key_check`, then
    /// every checkpoint's blob against its stored SHA-256, count and dtype, every buffered
    /// delta in a file or segment against its SHA-256 or CRC-32C, then the records
    /// that carry no hash against each other: each run's parameter count against its
    /// checkpoints and buffered deltas, each update's state against the versions the run
    /// has, and the saved scheduler state's version against the latest checkpoint
    /// (docs/design.md 10). Problems are reported, not thrown; only failing
    /// to read the file at all throws.
    package func verify() throws -> VerificationReport {
        try read("verify the database") { db in
            var report = VerificationReport(
                databaseProblems: try databaseProblems(db), checkpointsChecked: 0,
                checkpointProblems: [])
            do {
                let rows = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT run, version, count, dtype, sha256, parameters
                        FROM checkpoints ORDER BY run, version
                        """)
                while let row = try rows.next() {
                    report.checkpointsChecked += 1
                    if let problem = try checkpointProblem(row) {
                        report.checkpointProblems.append(problem)
                    }
                }
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT {
                // A damaged page stops the walk; what was read so far is still reported.
                report.databaseProblems.append("reading checkpoints: \(error.message ?? "corrupt")")
            }
            do {
                report.recordProblems = try recordProblems(db)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT {
                report.databaseProblems.append("reading updates and state: \(error.message ?? "corrupt")")
            }
            return report
        }
    }

    private func databaseProblems(_ db: Database) throws -> [String] {
        do {
            let integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check")
            var problems = integrity == ["ok"] ? [] : integrity
            let orphans = try Row.fetchAll(db, sql: "PRAGMA foreign_key_check")
            problems += try orphans.map { row in
                let table: String = try row.decode(forColumn: "table")
                let parent: String = try row.decode(forColumn: "parent")
                return "a row of \(table) refers to a missing row of \(parent)"
            }
            return problems
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT {
            return ["integrity check failed: \(error.message ?? "corrupt")"]
        }
    }

    /// Contradictions between the rows of each run, which carry no hash of their own.
    private func recordProblems(_ db: Database) throws -> [String] {
        var problems: [String] = []
        for run in try Row.fetchAll(db, sql: "SELECT id, parameter_count FROM runs ORDER BY id") {
            let id: String = try run.decode(forColumn: "id")
            let count: Int = try run.decode(forColumn: "parameter_count")
            let latest = try Int.fetchOne(
                db, sql: "SELECT max(version) FROM checkpoints WHERE run = ?", arguments: [id])
            for row in try Row.fetchAll(
                db, sql: "SELECT version, count FROM checkpoints WHERE run = ? AND count != ? ORDER BY version",
                arguments: [id, count])
            {
                let version: Int = try row.decode(forColumn: "version")
                let values: Int = try row.decode(forColumn: "count")
                problems.append("run '\(id)': checkpoint \(version) holds \(values) values, the run's model \(count)")
            }
            let updates = try Row.fetchAll(
                db,
                sql: """
                    SELECT u.id, u.client, u.state, u.base_version, u.applied_version,
                        coalesce(b.count, f.count, s.count) AS delta_count, f.sha256 AS file_sha256,
                        \(Self.segmentColumns)
                    FROM updates u LEFT JOIN buffered_updates b ON b.update_id = u.id
                    LEFT JOIN update_files f ON f.update_id = u.id
                    LEFT JOIN update_segments s ON s.update_id = u.id
                    WHERE u.run = ? ORDER BY u.id
                    """,
                arguments: [id])
            for row in updates {
                problems += try updateProblems(row, run: id, parameterCount: count, latest: latest)
            }
            if let snapshot = try Data.fetchOne(
                db, sql: "SELECT value FROM scheduler_state WHERE run = ? AND key = 'scheduler'", arguments: [id])
            {
                problems += Self.schedulerStateProblems(snapshot, run: id, latest: latest)
            }
        }
        return problems
    }

    /// One update's row against its run: the length of its delta and the versions it names.
    private func updateProblems(_ row: Row, run: String, parameterCount: Int, latest: Int?) throws -> [String] {
        let update: Int64 = try row.decode(forColumn: "id")
        let client: String = try row.decode(forColumn: "client")
        let state: String = try row.decode(forColumn: "state")
        let base: Int = try row.decode(forColumn: "base_version")
        let applied: Int? = try row.decode(forColumn: "applied_version")
        let deltaCount: Int? = try row.decode(forColumn: "delta_count")
        let name = "run '\(run)': update \(update) of \(client)"
        var problems: [String] = []
        if let deltaCount, deltaCount != parameterCount {
            problems.append("\(name): its buffered delta has \(deltaCount) values, the run's model \(parameterCount)")
        }
        // A delta stored as a file is checked against the SHA-256 its row records.
        if let sha256: String = try row.decode(forColumn: "file_sha256"), let deltaCount,
            case .failure(let problem) = blobs.read(sha256: sha256, count: deltaCount)
        {
            problems.append("\(name): its buffered delta cannot be read: \(problem.message)")
        }
        // So is a delta in a segment against the CRC-32C its row records.
        if let record = try Self.segmentRecord(row), case .failure(let problem) = segments.read(record) {
            problems.append("\(name): its buffered delta cannot be read: \(problem.message)")
        }
        if state != "buffered", deltaCount != nil {
            problems.append("\(name) is \(state) but still has a buffered delta")
        }
        if state == "buffered", let latest, base > latest {
            problems.append("\(name) waits on version \(base), newer than the latest checkpoint \(latest)")
        }
        guard state == "applied" else { return problems }
        if let applied, let latest, applied > latest {
            problems.append(
                "\(name) was applied in version \(applied), which the run never committed (latest \(latest))")
        } else if let applied, applied <= base {
            problems.append("\(name) was applied in version \(applied), not after its base version \(base)")
        } else if applied == nil {
            problems.append("\(name) is applied but names no version")
        }
        return problems
    }

    /// The scheduler snapshot is JSON that records its version (`{"kind", "state": {"version"}}`,
    /// or the bare state of older builds): it must be the version of the latest checkpoint.
    private static func schedulerStateProblems(_ snapshot: Data, run: String, latest: Int?) -> [String] {
        guard let object = try? JSONSerialization.jsonObject(with: snapshot) as? [String: Any] else {
            return ["run '\(run)': the scheduler state is not the JSON Sextant writes"]
        }
        let state = object["state"] as? [String: Any] ?? object
        guard let version = state["version"] as? Int, let latest, version != latest else { return [] }
        return ["run '\(run)': the scheduler state is at version \(version), the latest checkpoint is \(latest)"]
    }

    func checkpointProblem(_ row: Row) throws -> VerificationReport.CheckpointProblem? {
        let run: String = try row.decode(forColumn: "run")
        let version: Int = try row.decode(forColumn: "version")
        let count: Int? = try row.decode(forColumn: "count")
        let dtype: String? = try row.decode(forColumn: "dtype")
        let stored: String? = try row.decode(forColumn: "sha256")
        var issues: [String] = []
        try row.withUnsafeData(named: "parameters") { blob in
            guard let blob else {
                // The parameters are in the file their hash names (docs/design.md 6).
                if let stored, let count, case .failure(let problem) = blobs.read(sha256: stored, count: count) {
                    issues.append(problem.message)
                }
                return
            }
            if let count, count * MemoryLayout<Float>.size != blob.count {
                issues.append("count \(count) needs \(count * 4) bytes, blob has \(blob.count)")
            }
            let actual = ParameterBlob.sha256Hex(blob)
            if stored != actual {
                issues.append("SHA-256 mismatch: stored \(stored ?? "none"), computed \(actual)")
            }
        }
        if dtype != ParameterBlob.dtype {
            issues.append("dtype is \(dtype ?? "missing"), expected \(ParameterBlob.dtype)")
        }
        return issues.isEmpty ? nil : .init(run: run, version: version, issues: issues)
    }
}
