/// Times to a target accuracy and their spread over seeds, for `sextant simulate --seeds`.
///
/// Two times per run: the first crossing (the first evaluation at or above the target) and
/// a robust one, the first evaluation from which `held` consecutive evaluations (3 by
/// default) are all at or above it, so that one lucky evaluation of a noisy curve does not
/// count. A run that never reaches the target has no time; over seeds it counts as later
/// than every time that was reached (a censored value), which the median and its interval
/// handle because they only depend on the order of the values.
package enum TimeToTarget {
    /// The virtual time of the first evaluation at or above `target`.
    package static func firstCrossing(_ points: [SimulationPoint], target: Double) -> Double? {
        points.first { $0.accuracy >= target }?.virtualSeconds
    }

    /// The virtual time of the first of `held` consecutive evaluations all at or above
    /// `target`; nil when no such run of evaluations exists (also when the curve ends fewer
    /// than `held` evaluations after its last crossing).
    package static func robust(_ points: [SimulationPoint], target: Double, held: Int = 3) -> Double? {
        precondition(held > 0, "a target must be held for at least one evaluation")
        var streak = 0
        for (index, point) in points.enumerated() {
            streak = point.accuracy >= target ? streak + 1 : 0
            if streak == held { return points[index - held + 1].virtualSeconds }
        }
        return nil
    }
}

/// The median of a sample with a distribution-free confidence interval: the order-statistic
/// interval `[x(k), x(n+1-k)]` of the sorted values, whose coverage of the true median is
/// exactly `P(k <= B <= n - k)` for `B ~ Binomial(n, 1/2)` whatever the distribution
/// (continuous, as times are). `k` is the largest that keeps the coverage at or above the
/// confidence asked for; when even `k = 1` (the whole range) falls short, as it does for
/// fewer than 6 values at 95%, the interval is the whole range and ``coverage`` says how
/// much it covers (3 values: 75%, 5 values: 93.75%).
///
/// Values that are nil (the target was not reached) sort after every number, as +infinity:
/// a median or bound that is infinite reads "not reached".
package struct MedianInterval: Sendable, Equatable {
    package var median: Double
    package var lower: Double
    package var upper: Double
    /// The exact probability that the interval covers the true median.
    package var coverage: Double
    /// Values that were reached (finite), out of ``count``.
    package var reached: Int
    package var count: Int

    package init(_ values: [Double?], confidence: Double = 0.95) {
        precondition(!values.isEmpty, "a median of no values")
        let sorted = values.map { $0 ?? .infinity }.sorted()
        let n = sorted.count
        count = n
        reached = values.filter { $0 != nil }.count
        median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        var k = 1
        while k + 1 <= n / 2, Self.coverage(n: n, k: k + 1) >= confidence { k += 1 }
        lower = sorted[k - 1]
        upper = sorted[n - k]
        coverage = Self.coverage(n: n, k: k)
    }

    /// `P(k <= B <= n - k)` for `B ~ Binomial(n, 1/2)`: the coverage of `[x(k), x(n+1-k)]`.
    package static func coverage(n: Int, k: Int) -> Double {
        guard k <= n - k else { return 0 }
        var total = 0.0
        var choose = 1.0  // C(n, i), built up from C(n, 0)
        for i in 0...n {
            if i >= k && i <= n - k { total += choose }
            choose = choose * Double(n - i) / Double(i + 1)
        }
        return total / Double(sign: .plus, exponent: n, significand: 1)
    }
}
