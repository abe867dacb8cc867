/// The confusion counts and rates of the rule "member if score >= threshold". Sendable.
package struct ThresholdOutcome: Sendable, Equatable, Codable {
    package var threshold: Double
    package var truePositives: Int
    package var falsePositives: Int
    package var trueNegatives: Int
    package var falseNegatives: Int

    package init(threshold: Double, scores: [Double], isMember: [Bool]) {
        precondition(scores.count == isMember.count, "one membership flag per score")
        self.threshold = threshold
        var counts = (tp: 0, fp: 0, tn: 0, fn: 0)
        for (score, member) in zip(scores, isMember) {
            switch (score >= threshold, member) {
            case (true, true): counts.tp += 1
            case (true, false): counts.fp += 1
            case (false, false): counts.tn += 1
            case (false, true): counts.fn += 1
            }
        }
        (truePositives, falsePositives, trueNegatives, falseNegatives) = counts
    }

    package var positives: Int { truePositives + falseNegatives }
    package var negatives: Int { falsePositives + trueNegatives }

    /// TP / members (also the recall).
    package var truePositiveRate: Double { positives == 0 ? 0 : Double(truePositives) / Double(positives) }
    /// FP / non-members.
    package var falsePositiveRate: Double { negatives == 0 ? 0 : Double(falsePositives) / Double(negatives) }
    package var recall: Double { truePositiveRate }
    /// TP / predicted members; nil when nothing is predicted a member.
    package var precision: Double? {
        truePositives + falsePositives == 0 ? nil : Double(truePositives) / Double(truePositives + falsePositives)
    }
    /// The mean of TPR and TNR: 0.5 for guessing whatever the class balance.
    package var balancedAccuracy: Double { (truePositiveRate + 1 - falsePositiveRate) / 2 }
    package var accuracy: Double {
        let total = positives + negatives
        return total == 0 ? 0 : Double(truePositives + trueNegatives) / Double(total)
    }
}

/// Choosing a threshold from subjects whose membership is known.
package enum ThresholdCalibration {
    /// The threshold with the highest balanced accuracy on `scores` (the known subjects):
    /// candidates are the midpoints between consecutive distinct scores and one value
    /// beyond each end; ties go to the candidate nearest the middle of the tied range.
    /// Nil without at least one member and one non-member.
    package static func calibrate(scores: [Double], isMember: [Bool]) -> Double? {
        guard isMember.contains(true), isMember.contains(false) else { return nil }
        let distinct = Array(Set(scores)).sorted()
        var candidates = [distinct[0] - 1]
        for (low, high) in zip(distinct, distinct.dropFirst()) { candidates.append((low + high) / 2) }
        candidates.append(distinct[distinct.count - 1] + 1)
        let accuracies = candidates.map {
            ThresholdOutcome(threshold: $0, scores: scores, isMember: isMember).balancedAccuracy
        }
        let best = accuracies.max()!
        let tied = candidates.indices.filter { accuracies[$0] >= best - 1e-12 }
        return candidates[tied[tied.count / 2]]
    }
}
