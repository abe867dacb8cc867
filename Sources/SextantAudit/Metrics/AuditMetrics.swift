/// Everything the audit reports about one attack's scores on the evaluated subjects
/// (docs/design.md 8). Sendable and Codable (the JSON report embeds it).
package struct AuditMetrics: Sendable, Equatable, Codable {
    /// How the metrics are computed; the defaults are the report's.
    package struct Configuration: Sendable, Equatable, Codable {
        /// Bootstrap resamples of the AUC interval.
        package var bootstrapResamples = 1000
        /// Coverage of the AUC interval and of each Clopper-Pearson bound.
        package var confidence = 0.95
        /// Seed of the bootstrap.
        package var seed: UInt64 = 0
        /// The delta of the empirical epsilon bound.
        package var delta = 1e-5
        /// The false-positive rates at which the TPR is reported.
        package var lowFalsePositiveRates = [0.1, 0.01, 0.001]

        package init() {}
    }

    /// The TPR at one low FPR, or a note saying why it cannot be resolved.
    package struct LowFalsePositiveRate: Sendable, Equatable, Codable {
        package var falsePositiveRate: Double
        package var truePositiveRate: Double?
        package var note: String?
    }

    package var members: Int
    package var nonMembers: Int
    package var auc: Double
    package var aucInterval: ClosedRange<Double>
    package var roc: ROCCurve
    package var lowFalsePositiveRates: [LowFalsePositiveRate]
    /// max(TPR - FPR) over thresholds.
    package var advantage: Double
    /// The rule with the threshold calibrated on the known subjects, if there was one.
    package var calibrated: ThresholdOutcome?
    /// The rule with the best balanced accuracy in hindsight (an upper bound).
    package var hindsight: ThresholdOutcome
    /// The bound at the calibrated threshold (valid at `confidence`).
    package var calibratedEpsilon: EmpiricalEpsilon?
    /// The largest bound over all thresholds (optimistic).
    package var hindsightEpsilon: EmpiricalEpsilon
    /// The one-run bound (valid when the subjects were included by independent fair coins).
    package var oneRunEpsilon: OneRunEpsilon?

    /// Metrics of `scores` (higher means "member") with true membership `isMember`;
    /// `calibratedThreshold` comes from the known subjects. Throws unless there is at
    /// least one member and one non-member.
    package init(
        scores: [Double], isMember: [Bool], calibratedThreshold: Double?,
        configuration: Configuration = Configuration()
    ) throws {
        let roc = ROCCurve(scores: scores, isMember: isMember)
        guard roc.positives > 0, roc.negatives > 0,
            let auc = AreaUnderCurve.compute(scores: scores, isMember: isMember),
            let interval = AreaUnderCurve.bootstrapInterval(
                scores: scores, isMember: isMember, resamples: configuration.bootstrapResamples,
                confidence: configuration.confidence, seed: configuration.seed)
        else {
            throw AuditError(
                .insufficientSubjects,
                "the evaluated subjects need members and non-members (have \(isMember.filter { $0 }.count) members, \(isMember.filter { !$0 }.count) non-members)"
            )
        }
        members = roc.positives
        nonMembers = roc.negatives
        self.auc = auc
        aucInterval = interval
        self.roc = roc
        lowFalsePositiveRates = configuration.lowFalsePositiveRates.map { rate in
            if let tpr = roc.truePositiveRate(atFalsePositiveRate: rate) {
                return LowFalsePositiveRate(falsePositiveRate: rate, truePositiveRate: tpr, note: nil)
            }
            let needed = Int((1 / rate).rounded(.up))
            return LowFalsePositiveRate(
                falsePositiveRate: rate, truePositiveRate: nil,
                note: "needs at least \(needed) non-members, have \(roc.negatives)")
        }
        let best = roc.bestAdvantage
        advantage = best.advantage
        hindsight = ThresholdOutcome(threshold: best.point.threshold, scores: scores, isMember: isMember)
        hindsightEpsilon = EmpiricalEpsilon.best(
            over: roc, delta: configuration.delta, confidence: configuration.confidence)
        oneRunEpsilon = OneRunEpsilon(
            scores: scores, isMember: isMember, delta: configuration.delta, confidence: configuration.confidence)
        if let calibratedThreshold {
            let outcome = ThresholdOutcome(threshold: calibratedThreshold, scores: scores, isMember: isMember)
            calibrated = outcome
            calibratedEpsilon = EmpiricalEpsilon(
                outcome, delta: configuration.delta, confidence: configuration.confidence)
        }
    }
}
