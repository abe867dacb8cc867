/// The area under the ROC curve as the Mann-Whitney statistic: the probability that a
/// random member scores higher than a random non-member, ties counting one half.
package enum AreaUnderCurve {
    /// AUC of `scores` with membership `isMember`; nil without both members and non-members.
    ///
    /// Computed from mid-ranks in O(n log n): AUC = (R - P (P + 1) / 2) / (P N), where R
    /// is the rank sum of the P members among all scores (tied scores share their mean rank).
    package static func compute(scores: [Double], isMember: [Bool]) -> Double? {
        precondition(scores.count == isMember.count, "one membership flag per score")
        let positives = isMember.filter { $0 }.count
        let negatives = isMember.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count, scores[order[end + 1]] == scores[order[start]] { end += 1 }
            // Ranks start..end (0-based) share the mid-rank, 1-based.
            let midRank = Double(start + end) / 2 + 1
            for position in start...end where isMember[order[position]] { rankSum += midRank }
            start = end + 1
        }
        let p = Double(positives)
        return (rankSum - p * (p + 1) / 2) / (p * Double(negatives))
    }

    /// A percentile bootstrap confidence interval: members and non-members are resampled
    /// with replacement separately (so every resample has both), `resamples` times, from a
    /// generator seeded with `seed`; the same inputs and seed give the same interval.
    package static func bootstrapInterval(
        scores: [Double], isMember: [Bool], resamples: Int = 1000, confidence: Double = 0.95,
        seed: UInt64 = 0
    ) -> ClosedRange<Double>? {
        precondition(resamples > 0, "the bootstrap needs at least one resample")
        let members = scores.indices.filter { isMember[$0] }.map { scores[$0] }
        let nonMembers = scores.indices.filter { !isMember[$0] }.map { scores[$0] }
        guard !members.isEmpty, !nonMembers.isEmpty else { return nil }
        var generator = AuditRandom(seed: seed)
        let flags = [Bool](repeating: true, count: members.count) + [Bool](repeating: false, count: nonMembers.count)
        var values: [Double] = []
        values.reserveCapacity(resamples)
        var sample = [Double](repeating: 0, count: flags.count)
        for _ in 0..<resamples {
            for i in 0..<members.count {
                sample[i] = members[generator.nextIndex(below: members.count)]
            }
            for j in 0..<nonMembers.count {
                sample[members.count + j] = nonMembers[generator.nextIndex(below: nonMembers.count)]
            }
            values.append(compute(scores: sample, isMember: flags)!)
        }
        values.sort()
        let tail = (1 - confidence) / 2
        return quantile(values, tail)...quantile(values, 1 - tail)
    }

    /// The `q` quantile of sorted `values`, linearly interpolated.
    static func quantile(_ values: [Double], _ q: Double) -> Double {
        let position = q * Double(values.count - 1)
        let below = Int(position.rounded(.down))
        let above = min(below + 1, values.count - 1)
        let fraction = position - Double(below)
        return values[below] * (1 - fraction) + values[above] * fraction
    }
}
