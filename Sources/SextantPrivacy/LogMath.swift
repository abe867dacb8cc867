import Foundation

/// Arithmetic on numbers stored as logarithms, for the Rényi-divergence sums whose terms
/// span hundreds of orders of magnitude (a term like `exp(k²/2σ²)` at k = 1024 overflows a
/// Double long before the sum is taken).
@usableFromInline
enum LogMath {
    /// `log(exp(a) + exp(b))` without overflow; `-inf` is the logarithm of zero.
    @inlinable
    static func add(_ a: Double, _ b: Double) -> Double {
        let high = max(a, b)
        let low = min(a, b)
        if high == -.infinity { return -.infinity }
        return high + log1p(exp(low - high))
    }

    /// `log(sum(exp(values)))` with one shift by the maximum, the usual logsumexp.
    static func sumExp(_ values: [Double]) -> Double {
        guard let top = values.max(), top > -.infinity else { return -.infinity }
        if top == .infinity { return .infinity }
        var total = 0.0
        for value in values { total += exp(value - top) }
        return top + log(total)
    }

    /// `log(erfc(x))`, accurate where `erfc` itself underflows.
    ///
    /// For `x < 20` glibc's `erfc` is accurate to about an ulp and its result (at least
    /// `5e-176`) is a normal Double, so its logarithm is as accurate. Beyond that `erfc`
    /// heads for the subnormal range (it reaches it near x = 26.5) and loses digits, so we
    /// use the asymptotic expansion
    /// `erfc(x) = exp(-x²) / (x √π) · Σ_k (-1)^k (2k-1)!! / (2x²)^k`,
    /// whose truncation after eight terms is below 1e-18 relative at x = 20.
    static func logErfc(_ x: Double) -> Double {
        if x < 20 { return log(erfc(x)) }
        let inverseTwoXSquared = 1 / (2 * x * x)
        var term = 1.0
        var series = 1.0
        for k in 1...8 {
            term *= -Double(2 * k - 1) * inverseTwoXSquared
            series += term
        }
        return -x * x - log(x) - 0.5 * log(Double.pi) + log(series)
    }
}

/// A running sum of signed terms, each given as `(sign, log|term|)`, kept as the sign and
/// logarithm of the total. The fractional-order series of the sampled Gaussian mechanism
/// has binomial coefficients `C(α, i)` that change sign once `i > α`; keeping each sign
/// (instead of summing magnitudes) is what makes the series equal the divergence.
struct SignedLogSum {
    /// `log|total|`; `-inf` when the total is zero.
    private(set) var logMagnitude: Double = -.infinity
    /// True when the total is negative.
    private(set) var isNegative = false

    mutating func add(logMagnitude term: Double, negative: Bool) {
        if term == -.infinity { return }
        if logMagnitude == -.infinity {
            logMagnitude = term
            isNegative = negative
            return
        }
        if negative == isNegative {
            logMagnitude = LogMath.add(logMagnitude, term)
            return
        }
        // Opposite signs: the larger magnitude keeps its sign.
        if term > logMagnitude {
            logMagnitude = term + log1p(-exp(logMagnitude - term))
            isNegative = negative
        } else if term < logMagnitude {
            logMagnitude = logMagnitude + log1p(-exp(term - logMagnitude))
        } else {
            logMagnitude = -.infinity
            isNegative = false
        }
    }
}
