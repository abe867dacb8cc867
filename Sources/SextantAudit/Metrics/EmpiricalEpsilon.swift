import Foundation

/// A lower bound on the privacy parameter epsilon implied by an attack's success, as in
/// privacy auditing (Jagielski et al. 2020, Nasr et al. 2021). Sendable.
///
/// An (epsilon, delta)-DP mechanism forces every test to satisfy
/// TPR <= e^epsilon FPR + delta and TNR <= e^epsilon FNR + delta, so an observed operating
/// point proves
///
///     epsilon >= max( ln((TPR_lo - delta) / FPR_hi), ln((TNR_lo - delta) / FNR_hi) )
///
/// where TPR_lo, TNR_lo are one-sided Clopper-Pearson lower bounds and FPR_hi, FNR_hi
/// one-sided upper bounds on the subjects' counts, each at `1 - (1 - confidence)/4` so
/// that the four hold jointly at `confidence` (Bonferroni). The figure treats the subjects
/// as independent trials of one neighbouring pair, which they are only when each was
/// included by an independent coin (docs/design.md 8; ``OneRunEpsilon`` is the bound for
/// one run), and only for a threshold fixed before looking at the evaluated subjects (the
/// calibrated one); the maximum over all thresholds is optimistic.
package struct EmpiricalEpsilon: Sendable, Equatable, Codable {
    /// The bound (0 when the attack proves nothing).
    package var lowerBound: Double
    package var threshold: Double
    package var truePositiveRateLower: Double
    package var falsePositiveRateUpper: Double
    package var trueNegativeRateLower: Double
    package var falseNegativeRateUpper: Double
    package var delta: Double
    package var confidence: Double

    /// The bound at one operating point: `truePositives` of `positives` members and
    /// `falsePositives` of `negatives` non-members predicted members.
    package init(
        threshold: Double, truePositives: Int, positives: Int, falsePositives: Int, negatives: Int,
        delta: Double, confidence: Double = 0.95
    ) {
        precondition(positives > 0 && negatives > 0, "the bound needs members and non-members")
        self.threshold = threshold
        self.delta = delta
        self.confidence = confidence
        let each = 1 - (1 - confidence) / 4
        truePositiveRateLower = ClopperPearson.lowerBound(successes: truePositives, trials: positives, confidence: each)
        falsePositiveRateUpper = ClopperPearson.upperBound(
            successes: falsePositives, trials: negatives, confidence: each)
        trueNegativeRateLower = ClopperPearson.lowerBound(
            successes: negatives - falsePositives, trials: negatives, confidence: each)
        falseNegativeRateUpper = ClopperPearson.upperBound(
            successes: positives - truePositives, trials: positives, confidence: each)
        func term(_ numerator: Double, _ denominator: Double) -> Double {
            guard numerator - delta > 0, denominator > 0 else { return 0 }
            return log((numerator - delta) / denominator)
        }
        lowerBound = max(
            0, term(truePositiveRateLower, falsePositiveRateUpper),
            term(trueNegativeRateLower, falseNegativeRateUpper))
    }

    /// The bound at a threshold outcome.
    package init(_ outcome: ThresholdOutcome, delta: Double, confidence: Double = 0.95) {
        self.init(
            threshold: outcome.threshold, truePositives: outcome.truePositives, positives: outcome.positives,
            falsePositives: outcome.falsePositives, negatives: outcome.negatives, delta: delta,
            confidence: confidence)
    }

    /// The largest bound over the points of a curve (optimistic: the threshold is chosen
    /// after seeing the subjects).
    package static func best(over curve: ROCCurve, delta: Double, confidence: Double = 0.95) -> EmpiricalEpsilon {
        precondition(curve.positives > 0 && curve.negatives > 0, "the bound needs members and non-members")
        return curve.points.map {
            EmpiricalEpsilon(
                threshold: $0.threshold, truePositives: $0.truePositives, positives: curve.positives,
                falsePositives: $0.falsePositives, negatives: curve.negatives, delta: delta,
                confidence: confidence)
        }.max { $0.lowerBound < $1.lowerBound }!
    }
}
