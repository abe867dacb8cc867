import SextantPrivacy

/// Exact samples of the discrete Gaussian `N_Z(0, σ²)`, `P(x) ∝ exp(-x² / 2σ²)` on the
/// integers, by the rejection sampler of Canonne, Kamath and Steinke 2020 (their
/// algorithms 1-3): a discrete Laplace proposal of scale `t = floor(σ) + 1`, accepted with
/// probability `exp(-(|y| - σ²/t)² / 2σ²)`, every Bernoulli drawn from uniform integers with
/// rational arithmetic, so no floating point enters a sample.
///
/// `σ²` is held as a rational `numerator / denominator`; ``init(standardDeviation:)`` rounds
/// it to a multiple of 1/1024 (or to an integer when `σ² >= 2^20`), and the accounting uses
/// ``variance``, the value sampled. The one departure from exactness: a proposal whose
/// acceptance probability is below `e^-256` (its exponent's numerator would pass 2^128) is
/// rejected. Each member adds such noise to its encoded update in the
/// ring (``addNoise(to:using:)``); the sum of the members' noise protects the sum
/// (``DistributedDiscreteGaussianAccounting``).
///
/// `Sendable`: a plain value.
package struct DiscreteGaussianSampler: Sendable, Equatable {
    package let varianceNumerator: UInt64
    package let varianceDenominator: UInt64
    /// The Laplace proposal's scale, `floor(σ) + 1`.
    let laplaceScale: UInt64

    /// The largest standard deviation sampled within 128-bit arithmetic.
    package static let maximumStandardDeviation: Double = 536_870_912  // 2^29

    package init(varianceNumerator: UInt64, denominator: UInt64) throws(SecureAggregationError) {
        guard varianceNumerator > 0, denominator > 0 else {
            throw SecureAggregationError(.invalidConfiguration, "the discrete Gaussian's variance must be positive")
        }
        guard
            Double(varianceNumerator) / Double(denominator) <= Self.maximumStandardDeviation
                * Self.maximumStandardDeviation,
            denominator <= 1 << 20
        else {
            throw SecureAggregationError(
                .invalidConfiguration,
                "the discrete Gaussian's standard deviation must be at most 2^29 (denominator at most 2^20)")
        }
        self.varianceNumerator = varianceNumerator
        self.varianceDenominator = denominator
        // floor(sqrt(a / b)): the largest m with m² b <= a.
        var m = UInt64((Double(varianceNumerator) / Double(denominator)).squareRoot())
        while m > 0, UInt128(m) * UInt128(m) * UInt128(denominator) > UInt128(varianceNumerator) { m -= 1 }
        while UInt128(m + 1) * UInt128(m + 1) * UInt128(denominator) <= UInt128(varianceNumerator) { m += 1 }
        laplaceScale = m + 1
        guard 2 * Double(varianceNumerator) * Double(denominator) * Double(m + 1) * Double(m + 1) < 0x1p120 else {
            throw SecureAggregationError(
                .invalidConfiguration,
                "the discrete Gaussian's variance \(varianceNumerator)/\(denominator) needs a smaller denominator")
        }
    }

    package init(standardDeviation: Double) throws(SecureAggregationError) {
        guard standardDeviation > 0, standardDeviation <= Self.maximumStandardDeviation else {
            throw SecureAggregationError(
                .invalidConfiguration,
                "the discrete Gaussian's standard deviation must be in (0, 2^29], got \(standardDeviation)")
        }
        let variance = standardDeviation * standardDeviation
        let denominator: UInt64 = variance >= 1_048_576 ? 1 : 1024
        try self.init(
            varianceNumerator: max(1, UInt64((variance * Double(denominator)).rounded())), denominator: denominator)
    }

    /// `σ²`, the rational value sampled.
    package var variance: Double { Double(varianceNumerator) / Double(varianceDenominator) }

    /// One sample.
    package func sample(using generator: inout some RandomNumberGenerator) -> Int64 {
        let a = UInt128(varianceNumerator)
        let b = UInt128(varianceDenominator)
        let t = UInt128(laplaceScale)
        while true {
            let y = discreteLaplace(using: &generator)
            // (|y| - σ²/t)² / 2σ² = (|y| t b - a)² / (2 a b t²)
            // A product past 2^128 means γ > 2^128 / 2^120: acceptance below e^-256, taken as 0.
            let (ytb, overflow) = UInt128(y.magnitude).multipliedReportingOverflow(by: t * b)
            guard !overflow else { continue }
            let difference = ytb > a ? ytb - a : a - ytb
            let (square, squareOverflow) = difference.multipliedReportingOverflow(by: difference)
            guard !squareOverflow else { continue }
            if Self.bernoulliExpMinus(square, 2 * a * b * t * t, using: &generator) { return y }
        }
    }

    /// Adds one sample to each value, in the ring (wrapping).
    package func addNoise(to values: inout [UInt32], using generator: inout some RandomNumberGenerator) {
        for index in values.indices {
            values[index] &+= UInt32(truncatingIfNeeded: sample(using: &generator))
        }
    }

    /// Adds one sample to each value, drawn from the operating system's secure generator: the
    /// noise a member adds must be unpredictable to the server.
    package func addNoise(to values: inout [UInt32]) throws(SecureAggregationError) {
        var generator: SecureRandom
        do {
            generator = try SecureRandom()
        } catch {
            throw SecureAggregationError(.cryptographicFailure, error.description)
        }
        addNoise(to: &values, using: &generator)
    }

    /// The discrete Laplace `P(x) ∝ exp(-|x| / t)` (algorithm 2).
    private func discreteLaplace(using generator: inout some RandomNumberGenerator) -> Int64 {
        let t = UInt128(laplaceScale)
        while true {
            let u = UInt128.random(in: 0..<t, using: &generator)
            guard Self.bernoulliExpMinus(u, t, using: &generator) else { continue }
            var v: UInt128 = 0
            while Self.bernoulliExpMinus(1, 1, using: &generator) { v += 1 }
            let x = u + t * v
            let negative = Bool.random(using: &generator)
            if negative, x == 0 { continue }
            return negative ? -Int64(x) : Int64(x)
        }
    }

    /// Bernoulli(exp(-n/d)) (algorithm 1): exp(-1) once per whole unit, then the remainder.
    static func bernoulliExpMinus(
        _ numerator: UInt128, _ denominator: UInt128, using generator: inout some RandomNumberGenerator
    ) -> Bool {
        var n = numerator
        while n > denominator {
            guard bernoulliExpMinusAtMostOne(1, 1, using: &generator) else { return false }
            n -= denominator
        }
        return bernoulliExpMinusAtMostOne(n, denominator, using: &generator)
    }

    /// Bernoulli(exp(-γ)) for γ = n/d in [0, 1]: the parity of the first k with a failed
    /// Bernoulli(γ/k).
    private static func bernoulliExpMinusAtMostOne(
        _ n: UInt128, _ d: UInt128, using generator: inout some RandomNumberGenerator
    ) -> Bool {
        var k: UInt128 = 1
        while UInt128.random(in: 0..<(d * k), using: &generator) < n { k += 1 }
        return k % 2 == 1
    }
}
