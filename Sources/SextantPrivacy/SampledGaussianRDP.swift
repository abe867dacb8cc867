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
public enum SampledGaussianRDP {
    /// The RDP at `order` of one step with noise multiplier `noiseMultiplier` (σ, in units of
    /// the sensitivity) and sampling rate `sampleRate` (q).
    ///
    /// q = 0 releases nothing about anyone: 0. q = 1 is the plain Gaussian mechanism:
    /// `α / 2σ²`. σ = 0 with q > 0 releases the sum exactly: +infinity.
    /// - Precondition: `order > 1`, `0 <= sampleRate <= 1`, `noiseMultiplier >= 0`.
    public static func rdp(noiseMultiplier sigma: Double, sampleRate q: Double, order alpha: Double) -> Double {
        precondition(alpha > 1, "Rényi orders must exceed 1, got \(alpha)")
        precondition(q >= 0 && q <= 1, "the sampling rate must be in [0, 1], got \(q)")
        precondition(sigma >= 0, "the noise multiplier must be non-negative, got \(sigma)")
        if q == 0 { return 0 }
        if sigma == 0 { return .infinity }
        if q == 1 { return alpha / (2 * sigma * sigma) }
        let logA =
            alpha == alpha.rounded() && alpha < 1e6
            ? logAIntegerOrder(Int(alpha), sigma: sigma, q: q)
            : logAFractionalOrder(alpha, sigma: sigma, q: q)
        // log A >= 0 in exact arithmetic (a divergence is non-negative); clamp rounding.
        return max(0, logA) / (alpha - 1)
    }

    /// `log A_α` for integer α: a logsumexp over the `α + 1` binomial terms.
    static func logAIntegerOrder(_ alpha: Int, sigma: Double, q: Double) -> Double {
        let logQ = log(q)
        let log1mQ = log1p(-q)
        let twoSigmaSquared = 2 * sigma * sigma
        var terms = [Double]()
        terms.reserveCapacity(alpha + 1)
        var logBinomial = 0.0  // log C(α, k), built up as Σ log(α - j + 1) - log j
        for k in 0...alpha {
            if k > 0 { logBinomial += log(Double(alpha - k + 1)) - log(Double(k)) }
            let kk = Double(k)
            terms.append(logBinomial + kk * logQ + Double(alpha - k) * log1mQ + (kk * kk - kk) / twoSigmaSquared)
        }
        return LogMath.sumExp(terms)
    }

    /// `log A_α` for fractional α: the two erfc series of Mironov et al., summed with signs.
    ///
    /// Past `i ≈ z0` the exponential factors cancel and a term's size falls like
    /// `|C(α, i)| / i`, with a constant `exp(α ln(1-q) - z0²/2σ²)` in front; the loop stops
    /// once both series' terms are 30 nats (a factor 1e-13) below the running total — the
    /// total is at least 1, and the series alternate there, so the tail is below the last term.
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
        let limit = 10_000_000
        while i < limit {
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
            lower.add(logMagnitude: logS0, negative: binomialIsNegative)
            upper.add(logMagnitude: logS1, negative: binomialIsNegative)
            i += 1
            let total = LogMath.add(lower.logMagnitude, upper.logMagnitude)
            if ii > z0 && ii > alpha && max(logS0, logS1) < min(total, 0) - 30 { break }
        }
        var sum = lower
        sum.add(logMagnitude: upper.logMagnitude, negative: upper.isNegative)
        return sum.isNegative ? 0 : sum.logMagnitude
    }
}
