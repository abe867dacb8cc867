import Foundation
import Testing

@testable import SextantAudit

/// Tolerances: the continued fraction converges to ~1e-15 relative and the bisection to
/// 1e-13 in x, so 1e-10 absolute leaves room; published Clopper-Pearson values are given
/// to 4 decimals, hence 5e-5.
@Suite("Incomplete beta and Clopper-Pearson")
struct StatisticsTests {
    @Test(arguments: [
        // I_x(a, b) = P(Binomial(a + b - 1, x) >= a) for integers: hand-computed sums.
        (x: 0.5, a: 2.0, b: 3.0, expected: 11.0 / 16.0),
        (x: 0.2, a: 1.0, b: 5.0, expected: 1 - 0.32768),
        (x: 0.7, a: 3.0, b: 4.0, expected: 1 - (0.000729 + 0.010206 + 0.059535)),
        (x: 0.3, a: 1.0, b: 1.0, expected: 0.3),
        // I_x(1/2, 1/2) = (2 / pi) asin(sqrt(x)): 1/3 at x = 1/4.
        (x: 0.25, a: 0.5, b: 0.5, expected: 1.0 / 3.0),
        (x: 0.0, a: 2.0, b: 2.0, expected: 0.0),
        (x: 1.0, a: 2.0, b: 2.0, expected: 1.0),
    ])
    func incompleteBetaMatchesKnownValues(x: Double, a: Double, b: Double, expected: Double) {
        #expect(abs(IncompleteBeta.regularized(x: x, a: a, b: b) - expected) < 1e-10)
    }

    @Test func incompleteBetaIsSymmetricAndInvertible() {
        for (x, a, b) in [(0.37, 2.5, 7.1), (0.9, 30.0, 4.0), (0.05, 0.7, 12.0), (0.5, 200.0, 180.0)] {
            let value = IncompleteBeta.regularized(x: x, a: a, b: b)
            #expect(abs(value - (1 - IncompleteBeta.regularized(x: 1 - x, a: b, b: a))) < 1e-10)
            #expect(abs(IncompleteBeta.inverse(p: value, a: a, b: b) - x) < 1e-9)
        }
    }

    @Test func clopperPearsonMatchesKnownValues() {
        // No successes in 10: the one-sided 95% upper bound solves (1 - p)^10 = 0.05.
        let upper = ClopperPearson.upperBound(successes: 0, trials: 10, confidence: 0.95)
        #expect(abs(upper - (1 - pow(0.05, 0.1))) < 1e-10)
        #expect(abs(upper - 0.2589) < 5e-5)
        #expect(ClopperPearson.lowerBound(successes: 0, trials: 10) == 0)
        // All 10: the lower bound solves p^10 = 0.05.
        #expect(abs(ClopperPearson.lowerBound(successes: 10, trials: 10) - pow(0.05, 0.1)) < 1e-10)
        #expect(ClopperPearson.upperBound(successes: 10, trials: 10) == 1)
        // 5 of 10, two-sided 95%: [0.1871, 0.8129] (R's binom.test).
        let interval = ClopperPearson.interval(successes: 5, trials: 10, confidence: 0.95)
        #expect(abs(interval.lowerBound - 0.1871) < 5e-5)
        #expect(abs(interval.upperBound - 0.8129) < 5e-5)
        // 3 of 20, two-sided 95%: [0.0321, 0.3789] (R's binom.test).
        let other = ClopperPearson.interval(successes: 3, trials: 20)
        #expect(abs(other.lowerBound - 0.0321) < 5e-5)
        #expect(abs(other.upperBound - 0.3789) < 5e-5)
    }
}
