import Foundation
import GRDB

extension CheckpointStore {
    /// Checks the whole file: SQLite's `integrity_check` and `foreign_key_check`, then
    /// every checkpoint's blob against its stored SHA-256, count and dtype. Problems are
    /// reported, not thrown; only failing to read the file at all throws.
    public func verify() throws -> VerificationReport {
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

    private func checkpointProblem(_ row: Row) throws -> VerificationReport.CheckpointProblem? {
        let run: String = try row.decode(forColumn: "run")
        let version: Int = try row.decode(forColumn: "version")
        let count: Int? = try row.decode(forColumn: "count")
        let dtype: String? = try row.decode(forColumn: "dtype")
        let stored: String? = try row.decode(forColumn: "sha256")
        var issues: [String] = []
        try row.withUnsafeData(named: "parameters") { blob in
            guard let blob else {
                issues.append("parameter blob is missing")
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
