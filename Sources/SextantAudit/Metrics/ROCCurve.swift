/// The receiver operating characteristic of a membership score: higher scores mean "more
/// likely a member". Sendable.
///
/// Points run from (0, 0) (threshold above every score) to (1, 1) (threshold at the
/// lowest score), one per distinct score: the rule at a point is "member if
/// score >= threshold", so tied scores enter together and the curve is the exact
/// (step-free, tie-aware) empirical ROC.
package struct ROCCurve: Sendable, Equatable, Codable {
    /// One operating point of the curve.
    package struct Point: Sendable, Equatable, Codable {
        /// Members predicted as members.
        package var truePositives: Int
        /// Non-members predicted as members.
        package var falsePositives: Int
        /// "member if score >= threshold"; +infinity for the first point.
        package var threshold: Double

        package init(truePositives: Int, falsePositives: Int, threshold: Double) {
            self.truePositives = truePositives
            self.falsePositives = falsePositives
            self.threshold = threshold
        }
    }

    package var points: [Point]
    /// Members (positives).
    package var positives: Int
    /// Non-members (negatives).
    package var negatives: Int

    /// The curve of `scores` where `isMember[i]` says whether subject i is a member.
    package init(scores: [Double], isMember: [Bool]) {
        precondition(scores.count == isMember.count, "one membership flag per score")
        precondition(!scores.contains(where: \.isNaN), "scores must not be NaN")
        positives = isMember.filter { $0 }.count
        negatives = isMember.count - positives
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var points = [Point(truePositives: 0, falsePositives: 0, threshold: .infinity)]
        var truePositives = 0
        var falsePositives = 0
        var index = 0
        while index < order.count {
            let threshold = scores[order[index]]
            while index < order.count, scores[order[index]] == threshold {
                if isMember[order[index]] { truePositives += 1 } else { falsePositives += 1 }
                index += 1
            }
            points.append(Point(truePositives: truePositives, falsePositives: falsePositives, threshold: threshold))
        }
        self.points = points
    }

    /// True-positive rate of a point (0 without members).
    package func truePositiveRate(_ point: Point) -> Double {
        positives == 0 ? 0 : Double(point.truePositives) / Double(positives)
    }

    /// False-positive rate of a point (0 without non-members).
    package func falsePositiveRate(_ point: Point) -> Double {
        negatives == 0 ? 0 : Double(point.falsePositives) / Double(negatives)
    }

    /// The (FPR, TPR) pairs of the curve, for plotting.
    package var rates: [(falsePositiveRate: Double, truePositiveRate: Double)] {
        points.map { (falsePositiveRate($0), truePositiveRate($0)) }
    }

    /// The highest TPR among points whose FPR is at most `falsePositiveRate` (the usual
    /// "TPR at low FPR" of membership-inference papers), or nil when there are fewer than
    /// 1 / FPR non-members, so that the rate cannot be resolved.
    package func truePositiveRate(atFalsePositiveRate target: Double) -> Double? {
        guard positives > 0, negatives > 0, Double(negatives) * target >= 1 - 1e-9 else { return nil }
        let allowed = Int((Double(negatives) * target + 1e-9).rounded(.down))
        return points.filter { $0.falsePositives <= allowed }.map(truePositiveRate).max() ?? 0
    }

    /// max over points of TPR - FPR (the attack advantage), and the point that reaches it.
    package var bestAdvantage: (advantage: Double, point: Point) {
        var best = (advantage: 0.0, point: points[0])
        for point in points {
            let advantage = truePositiveRate(point) - falsePositiveRate(point)
            if advantage > best.advantage { best = (advantage, point) }
        }
        return best
    }
}
