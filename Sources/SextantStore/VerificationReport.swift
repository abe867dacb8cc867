/// What `CheckpointStore.verify()` found. Sendable.
public struct VerificationReport: Sendable, Equatable {
    /// The problems found with one checkpoint.
    public struct CheckpointProblem: Sendable, Equatable {
        public var run: String
        public var version: Int
        public var issues: [String]
    }

    /// Messages of `PRAGMA integrity_check` and `PRAGMA foreign_key_check`; empty if
    /// SQLite found the file sound.
    public var databaseProblems: [String]
    /// How many checkpoints were hashed.
    public var checkpointsChecked: Int
    /// Checkpoints whose blob, count, dtype or hash is wrong, in run and version order.
    public var checkpointProblems: [CheckpointProblem]
    /// Runs, stored updates and scheduler state that contradict each other (a delta of the
    /// wrong length, an update applied in a version the run never reached, scheduler state
    /// of another version), each naming the row.
    package var recordProblems: [String] = []

    public var isOK: Bool { databaseProblems.isEmpty && checkpointProblems.isEmpty && recordProblems.isEmpty }
}

extension VerificationReport: CustomStringConvertible {
    /// A few lines for the terminal.
    public var description: String {
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
