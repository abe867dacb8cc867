/// What `CheckpointStore.verify()` found. Sendable.
package struct VerificationReport: Sendable, Equatable {
    /// The problems found with one checkpoint.
    package struct CheckpointProblem: Sendable, Equatable {
        package var run: String
        package var version: Int
        package var issues: [String]
    }

    /// Messages of `PRAGMA integrity_check` and `PRAGMA foreign_key_check`; empty if
    /// SQLite found the file sound.
    package var databaseProblems: [String]
    /// How many checkpoints were hashed.
    package var checkpointsChecked: Int
    /// Checkpoints whose blob, count, dtype or hash is wrong, in run and version order.
    package var checkpointProblems: [CheckpointProblem]
    /// Runs, stored updates and scheduler state that contradict each other (a delta of the
    /// wrong length, an update applied in a version the run never reached, scheduler state
    /// of another version), each naming the row.
    package var recordProblems: [String] = []

    package var isOK: Bool { databaseProblems.isEmpty && checkpointProblems.isEmpty && recordProblems.isEmpty }
}

extension VerificationReport: CustomStringConvertible {
    /// A few lines for the terminal.
    package var description: String {
        var lines = [
            isOK
                ? "OK: database sound, \(checkpointsChecked) checkpoints verified"
                : "FAILED: \(databaseProblems.count) database problems, "
                    + "\(checkpointProblems.count) of \(checkpointsChecked) checkpoints bad, "
                    + "\(recordProblems.count) inconsistent records"
        ]
        lines += databaseProblems.map { "  database: \($0)" }
        lines += recordProblems.map { "  record: \($0)" }
        for problem in checkpointProblems {
            lines += problem.issues.map { "  \(problem.run)@\(problem.version): \($0)" }
        }
        return lines.joined(separator: "\n")
    }
}
