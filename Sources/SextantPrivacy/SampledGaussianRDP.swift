import Foundation

/// Rényi divergence of the sampled Gaussian mechanism (Mironov, Talwar & Zhang, 2019).
///
/// The mechanism adds `N(0, σ²)` to a sum over a Poisson sample (rate `q`) of
/// contributions of L2 norm at most 1. Its RDP at order `α` is `log(A_α) / (α - 1)` with
/// `A_α = E_{x∼μ0}[((1-q) + q·μ1(x)/μ0(x))^α]`, `μ0 = N(0, σ²)`, `μ1 = N(1, σ²)`.
///
/// - Integer `α`: the binomial expansion is a finite sum,
///   `A_α = Σ_{k=0}^{α} C(α,k) (1-q)^{α-k} q^k exp((k² - k) / 2σ²)`.
/// - Fractional `α`: the expectation is split at `z0 = σ² ln(1/q - 1) + 1/2`, where the
///   integrand's base crosses 1, and each half expands into a convergent binomial series
///   whose Gaussian integrals are `erfc` terms (Section 3.3 of the paper). The generalized
///   coefficients `C(α, i)` alternate in sign once `i > α`; the signs are kept.
///
/// Every term is formed as a logarithm: at α = 1024 and σ = 1 the factor
/// `exp(k²/2σ²)` alone is far beyond Double's range.
///
/// `Sendable`: a namespace of pure functions.
package enum SampledGaussianRDP {
    /// The RDP at `order` of one step with noise multiplier `noiseMultiplier` (σ, in units of
    /// the sensitivity) and sampling rate `sampleRate` (q).
    ///
    /// q = 0 releases nothing about anyone: 0. q = 1 is the plain Gaussian mechanism:
    /// `α / 2σ²`. σ = 0 with q > 0 releases the sum exactly: +infinity.
    ///
    /// At large σ, `A_α = 1 + tiny`, and the fractional series (which sums terms of size ~1
    /// with both signs) cannot resolve `log A_α` below about 1e-15; where it finds less than
    /// ``fractionalResolution`` the order's value is replaced by that of the next integer
    /// order, computed without cancellation — never smaller, as RDP does not decrease with
    /// the order.
    /// - Precondition: `order > 1`, `0 <= sampleRate <= 1`, `noiseMultiplier >= 0`.
    package static func rdp(noiseMultiplier sigma: Double, sampleRate q: Double, order alpha: Double) -> Double {
        precondition(alpha > 1, "Rényi orders must exceed 1, got \(alpha)")
        precondition(q >= 0 && q <= 1, "the sampling rate must be in [0, 1], got \(q)")
        precondition(sigma >= 0, "the noise multiplier must be non-negative, got \(sigma)")
        if q == 0 { return 0 }
        if sigma == 0 { return .infinity }
        if q == 1 { return alpha / (2 * sigma * sigma) }
        if alpha == alpha.rounded() && alpha < 1e6 {
            return logAIntegerOrder(Int(alpha), sigma: sigma, q: q) / (alpha - 1)
        }
        let logA = logAFractionalOrder(alpha, sigma: sigma, q: q)
        if logA < fractionalResolution && alpha < 1e6 {
            let next = alpha.rounded(.up)
            return logAIntegerOrder(Int(next), sigma: sigma, q: q) / (next - 1)
        }
        return logA / (alpha - 1)
    }

    /// The smallest `log A_α` the fractional series is trusted with: its rounding, a few
    /// ulps of the sum (about 1e-15 absolute, as the terms are at most about 1), is then
    /// at most 1e-5 of the value. Below it the next integer order's exact value is used.
    static let fractionalResolution = 1e-10

    /// `log A_α` for integer α, from `A_α - 1 = Σ_{k=2}^{α} C(α,k) (1-q)^{α-k} q^k (exp((k² - k)/2σ²) - 1)`
    /// (the binomial weights sum to 1): every term is non-negative, so nothing cancels and
    /// `log A_α` keeps its relative precision however large σ is. A logsumexp over the terms.
    static func logAIntegerOrder(_ alpha: Int, sigma: Double, q: Double) -> Double {
        let logQ = log(q)
        let log1mQ = log1p(-q)
        let twoSigmaSquared = 2 * sigma * sigma
        var terms = [Double]()
        terms.reserveCapacity(alpha + 1)
        var logBinomial = 0.0  // log C(α, k), built up as Σ log(α - j + 1) - log j
        for k in 0...alpha {
            if k > 0 { logBinomial += log(Double(alpha - k + 1)) - log(Double(k)) }
            guard k >= 2 else { continue }  // exp(0) - 1 = 0 for k = 0 and 1
            let kk = Double(k)
            let exponent = (kk * kk - kk) / twoSigmaSquared
            // log(e^x - 1), stable for small and large x
            let logExpm1 = exponent > 1 ? exponent + log1p(-exp(-exponent)) : log(expm1(exponent))
            terms.append(logBinomial + kk * logQ + Double(alpha - k) * log1mQ + logExpm1)
        }
        let logAMinusOne = LogMath.sumExp(terms)
        // log(1 + e^y)
        return logAMinusOne > 0 ? logAMinusOne + log1p(exp(-logAMinusOne)) : log1p(exp(logAMinusOne))
    }

    /// `log A_α` for fractional α: the two erfc series of Mironov et al., summed with signs.
    ///
    /// Stopping. With `L = ln((1-q)/q)` and `z0 = σ²L + 1/2`, the i-th terms have magnitudes
    /// `|C(α,i)| (1-q)^α e^{-z0²/2σ²} erfcx((i - z0)/√2σ) / 2` (lower) and the same with
    /// `erfcx((z0 - α + i)/√2σ)` (upper), `erfcx(x) = e^{x²} erfc(x)`. Past `i = α` the
    /// coefficients alternate in sign and `|C(α,i)|` falls (ratio `(i-α)/(i+1)`), and
    /// `erfcx` falls everywhere, so from there both series alternate with falling
    /// magnitudes and each tail is at most its first omitted term. The loop stops once both
    /// of those are 30 nats (a factor 1e-13) below the running total (which is at least 1),
    /// or after a million terms, and adds both omitted terms as positive: the result is never
    /// below the series' value. Only q near 1/2 with very large σ, where the terms fall like
    /// `|C(α,i)|` alone, reaches the cap. (The previous rule also waited for `i > z0`, which
    /// grows as σ²: 4 s at σ = 300.)
    static func logAFractionalOrder(_ alpha: Double, sigma: Double, q: Double) -> Double {
        let logQ = log(q)
        let log1mQ = log1p(-q)
        let twoSigmaSquared = 2 * sigma * sigma
        let z0 = sigma * sigma * log(1 / q - 1) + 0.5
        let erfcScale = 1 / (2.0.squareRoot() * sigma)
        let logHalf = -log(2.0)

        var lower = SignedLogSum()  // the integral over x < z0
        var upper = SignedLogSum()  // the integral over x >= z0
        var logBinomial = 0.0  // log|C(α, i)|
        var binomialIsNegative = false
        var i = 0
        let limit = 1_000_000
        while true {
            let ii = Double(i)
            if i > 0 {
                let factor = alpha - ii + 1  // C(α, i) = C(α, i-1) (α - i + 1) / i
                if factor == 0 { break }  // only for integer α, which never comes here
                logBinomial += log(abs(factor)) - log(ii)
                if factor < 0 { binomialIsNegative.toggle() }
            }
            let j = alpha - ii
            let logTerm0 = logBinomial + ii * logQ + j * log1mQ
            let logTerm1 = logBinomial + j * logQ + ii * log1mQ
            let logErfc0 = logHalf + LogMath.logErfc((ii - z0) * erfcScale)
            let logErfc1 = logHalf + LogMath.logErfc((z0 - j) * erfcScale)
            let logS0 = logTerm0 + (ii * ii - ii) / twoSigmaSquared + logErfc0
            let logS1 = logTerm1 + (j * j - j) / twoSigmaSquared + logErfc1
            let total = LogMath.add(lower.logMagnitude, upper.logMagnitude)
            if ii > alpha && (max(logS0, logS1) < min(total, 0) - 30 || i >= limit) {
                lower.add(logMagnitude: logS0, negative: false)
                upper.add(logMagnitude: logS1, negative: false)
                break
            }
            lower.add(logMagnitude: logS0, negative: binomialIsNegative)
            upper.add(logMagnitude: logS1, negative: binomialIsNegative)
            i += 1
        }
        var sum = lower
        sum.add(logMagnitude: upper.logMagnitude, negative: upper.isNegative)
        return sum.isNegative ? 0 : sum.logMagnitude
    }
}
