/// Exact (Clopper-Pearson) confidence bounds for a binomial proportion: `successes` out of
/// `trials`. The bounds are quantiles of beta distributions, found with
/// ``IncompleteBeta/inverse(p:a:b:tolerance:)``. Conservative: coverage is at least the
/// stated confidence for every true proportion.
package enum ClopperPearson {
    /// The one-sided lower bound: the true proportion is at least this with probability
    /// `confidence`. 0 when there are no successes.
    package static func lowerBound(successes: Int, trials: Int, confidence: Double = 0.95) -> Double {
        validate(successes, trials, confidence)
        guard successes > 0 else { return 0 }
        return IncompleteBeta.inverse(
            p: 1 - confidence, a: Double(successes), b: Double(trials - successes + 1))
    }

    /// The one-sided upper bound: the true proportion is at most this with probability
    /// `confidence`. 1 when every trial succeeded.
    package static func upperBound(successes: Int, trials: Int, confidence: Double = 0.95) -> Double {
        validate(successes, trials, confidence)
        guard successes < trials else { return 1 }
        return IncompleteBeta.inverse(
            p: confidence, a: Double(successes + 1), b: Double(trials - successes))
    }

    /// The two-sided interval with `confidence` coverage (each tail (1 - confidence) / 2).
    package static func interval(
        successes: Int, trials: Int, confidence: Double = 0.95
    ) -> ClosedRange<Double> {
        let oneSided = 1 - (1 - confidence) / 2
        return lowerBound(
            successes: successes, trials: trials, confidence: oneSided)...upperBound(
                successes: successes, trials: trials, confidence: oneSided)
    }

    private static func validate(_ successes: Int, _ trials: Int, _ confidence: Double) {
        precondition(trials > 0, "a binomial bound needs at least one trial")
        precondition(successes >= 0 && successes <= trials, "successes must lie in 0...trials")
        precondition(confidence > 0 && confidence < 1, "confidence must lie in (0, 1)")
    }
}
