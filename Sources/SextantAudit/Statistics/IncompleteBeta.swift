import Foundation

/// The regularised incomplete beta function I_x(a, b) and its inverse in x, the
/// building blocks of Clopper-Pearson intervals.
///
/// I_x(a, b) is evaluated with the continued fraction of Numerical Recipes (section 6.4),
/// summed with the modified Lentz method, using the symmetry
/// I_x(a, b) = 1 - I_{1-x}(b, a) where the fraction converges slowly
/// (x > (a + 1) / (a + b + 2)). The inverse is found by bisection, which is slow but
/// cannot fail: I_x is continuous and increasing in x.
package enum IncompleteBeta {
    /// I_x(a, b) for a, b > 0 and x in [0, 1].
    package static func regularized(x: Double, a: Double, b: Double) -> Double {
        precondition(a > 0 && b > 0, "the incomplete beta needs a > 0 and b > 0")
        precondition(x >= 0 && x <= 1, "the incomplete beta needs x in [0, 1]")
        if x == 0 { return 0 }
        if x == 1 { return 1 }
        // ln of x^a (1 - x)^b / B(a, b), the front factor of the continued fraction.
        let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
        let front = exp(logFront)
        if x < (a + 1) / (a + b + 2) {
            return front * continuedFraction(x: x, a: a, b: b) / a
        }
        return 1 - front * continuedFraction(x: 1 - x, a: b, b: a) / b
    }

    /// The x in [0, 1] with I_x(a, b) = p, to within `tolerance` in x.
    package static func inverse(p: Double, a: Double, b: Double, tolerance: Double = 1e-13) -> Double {
        precondition(p >= 0 && p <= 1, "the inverse incomplete beta needs p in [0, 1]")
        if p == 0 { return 0 }
        if p == 1 { return 1 }
        var low = 0.0
        var high = 1.0
        while high - low > tolerance {
            let middle = (low + high) / 2
            if regularized(x: middle, a: a, b: b) < p {
                low = middle
            } else {
                high = middle
            }
        }
        return (low + high) / 2
    }

    /// The continued fraction of I_x(a, b) (without its front factor), modified Lentz.
    private static func continuedFraction(x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        let epsilon = 1e-15
        let qab = a + b
        let qap = a + 1
        let qam = a - 1
        var c = 1.0
        var d = 1 - qab * x / qap
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...10_000 {
            let m = Double(m)
            let m2 = 2 * m
            // Even step.
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            // Odd step.
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < epsilon { break }
        }
        return h
    }
}
