import Foundation
import Testing

@testable import SextantScheduling

@Suite struct StalenessFunctionTests {
    @Test func polynomialDecaysWithNegativeExponent() {
        let s = StalenessFunction.polynomial(a: 0.5)
        #expect(s(0) == 1)
        #expect(abs(s(3) - 0.5) < tolerance)  // (3 + 1)^(-1/2)
        #expect(abs(s(8) - 1.0 / 3.0) < tolerance)  // 9^(-1/2)
        // A flipped sign would give (tau + 1)^(+a) > 1 and reward stale updates.
        #expect(s(1) < 1)
        #expect(s(10) < s(5))
    }

    @Test func hingeIsFlatUpToB() {
        let s = StalenessFunction.hinge(a: 10, b: 4)
        #expect(s(0) == 1)
        #expect(s(4) == 1)
        #expect(abs(s(5) - 1.0 / 11.0) < tolerance)  // 1 / (10 * 1 + 1)
        #expect(abs(s(6) - 1.0 / 21.0) < tolerance)
    }

    @Test func constantAndNegativeStaleness() {
        #expect(StalenessFunction.constant(0) == 1)
        #expect(StalenessFunction.constant(100) == 1)
        // A negative staleness cannot happen; it is treated as fresh.
        #expect(StalenessFunction.polynomial(a: 0.5)(-3) == 1)
    }

    @Test func weightingShares() {
        let samples = ["a": 100, "b": 300]
        #expect(Weighting.samples.share(of: "a", samples: samples) == 0.25)
        #expect(Weighting.samples.share(of: "b", samples: samples) == 0.75)
        #expect(Weighting.equal.share(of: "a", samples: samples) == 0.5)
        #expect(Weighting.samples.share(of: "zed", samples: samples) == 0)
    }
}
