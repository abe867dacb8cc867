import Foundation

/// The two subject membership-inference attacks of docs/design.md 8 (Suri et al. 2022).
/// Every score is oriented so that a higher score means "more likely a member".
package enum MembershipAttack: String, Sendable, CaseIterable, Codable {
    /// The final model's mean loss on the subject's samples; lower loss, member.
    case finalModel = "final-model"
    /// Statistics of the subject's loss trajectory across checkpoints.
    case trajectory

    package var title: String {
        switch self {
        case .finalModel: return "Final-model loss"
        case .trajectory: return "Loss trajectory"
        }
    }
}

/// One statistic of a loss trajectory, oriented as a membership score.
package enum TrajectoryStatistic: String, Sendable, CaseIterable, Codable {
    /// The fraction of rounds in which the loss went down (more, member).
    case fractionDecreasing = "fraction-decreasing"
    /// The mean loss over checkpoints (lower, member).
    case meanLoss = "mean-loss"
    /// Last minus first loss (a larger drop, member).
    case lastMinusFirst = "last-minus-first"
    /// The minimum loss over checkpoints (lower, member).
    case minimumLoss = "minimum-loss"
    /// The mean of the four statistics above, each standardised over all subjects.
    case combined

    /// The four basic statistics (the combined one is built from them).
    package static let basic: [TrajectoryStatistic] = [.fractionDecreasing, .meanLoss, .lastMinusFirst, .minimumLoss]

    /// The oriented score of one trajectory (not defined for `combined`).
    package func score(_ trajectory: [Double]) -> Double {
        precondition(!trajectory.isEmpty, "an empty loss trajectory")
        switch self {
        case .fractionDecreasing:
            guard trajectory.count > 1 else { return 0 }
            let decreases = zip(trajectory, trajectory.dropFirst()).filter { $1 < $0 }.count
            return Double(decreases) / Double(trajectory.count - 1)
        case .meanLoss:
            return -trajectory.reduce(0, +) / Double(trajectory.count)
        case .lastMinusFirst:
            return -(trajectory[trajectory.count - 1] - trajectory[0])
        case .minimumLoss:
            return -trajectory.min()!
        case .combined:
            preconditionFailure("the combined statistic scores a set of trajectories")
        }
    }

    /// The scores of every trajectory; `combined` standardises each basic statistic over
    /// these trajectories (no membership labels are used) and averages the z-scores.
    package func scores(_ trajectories: [[Double]]) -> [Double] {
        guard self == .combined else { return trajectories.map(score) }
        var total = [Double](repeating: 0, count: trajectories.count)
        for statistic in Self.basic {
            let values = statistic.scores(trajectories)
            let mean = values.reduce(0, +) / Double(max(values.count, 1))
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(values.count, 1))
            let deviation = variance.squareRoot()
            guard deviation > 0 else { continue }
            for i in values.indices { total[i] += (values[i] - mean) / deviation }
        }
        return total.map { $0 / Double(Self.basic.count) }
    }
}
