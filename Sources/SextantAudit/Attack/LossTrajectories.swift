/// Each subject's mean loss on its audit samples at each evaluated checkpoint: the raw
/// material of both attacks. Sendable and Codable.
package struct LossTrajectories: Sendable, Equatable, Codable {
    /// The checkpoint versions, ascending.
    package var versions: [Int]
    /// The subject ids, ascending.
    package var subjects: [Int32]
    /// `losses[s][c]`: subject `subjects[s]`'s mean loss under checkpoint `versions[c]`.
    package var losses: [[Double]]

    package init(versions: [Int], subjects: [Int32], losses: [[Double]]) {
        precondition(losses.count == subjects.count, "one trajectory per subject")
        precondition(losses.allSatisfy { $0.count == versions.count }, "one loss per checkpoint")
        self.versions = versions
        self.subjects = subjects
        self.losses = losses
    }

    /// A subject's trajectory, or nil for an unknown subject.
    package func trajectory(of subject: Int32) -> [Double]? {
        subjects.firstIndex(of: subject).map { losses[$0] }
    }

    /// Every subject's loss under the last checkpoint.
    package var finalLosses: [Double] { losses.map { $0.last ?? .nan } }
}
