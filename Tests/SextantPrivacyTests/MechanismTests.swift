import Foundation
import Testing

@testable import SextantPrivacy

@Suite struct L2ClippingTests {
    /// 3000 vectors of 1 to 2000 entries with norms spread over six decades around C: after
    /// clipping no norm exceeds C by more than a relative 1e-6. The Float rounding of the
    /// scale factor and of each product bounds the excess by 2·2⁻²⁴ ≈ 1.2e-7; 1e-6 leaves
    /// room for the Double norm's own rounding.
    @Test func clippedNormsNeverExceedTheBound() {
        var generator = TestGenerator(seed: 11)
        let clipping = L2Clipping(clipNorm: 1.7)
        var clippedCount = 0
        for _ in 0..<3000 {
            let count = Int.random(in: 1...2000, using: &generator)
            let scale = pow(10, Double.random(in: -3...3, using: &generator))
            var vector = (0..<count).map { _ in Float(GaussianNoise.normal(using: &generator) * scale) }
            let original = vector
            let normBefore = L2Clipping.norm(of: vector)
            let outcome = clipping.clip(&vector)
            let normAfter = L2Clipping.norm(of: vector)
            #expect(outcome.normBeforeClipping == normBefore)
            #expect(normAfter <= 1.7 * (1 + 1e-6))
            #expect(outcome.wasClipped == (normBefore > 1.7))
            if outcome.wasClipped {
                clippedCount += 1
                #expect(abs(normAfter - 1.7) <= 1.7 * 1e-6)
                // Same direction: the cosine with the original is 1 up to Float rounding.
                let dot = zip(vector, original).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                #expect(dot / (normAfter * normBefore) > 1 - 1e-6)
            } else {
                #expect(vector == original)
            }
        }
        #expect(clippedCount > 500 && clippedCount < 2500)  // both branches exercised
    }

    @Test func nonFiniteVectorsAreZeroed() {
        var vector: [Float] = [1, .nan, 2]
        let outcome = L2Clipping(clipNorm: 1).clip(&vector)
        #expect(outcome.wasClipped && vector == [0, 0, 0])
    }
}

@Suite struct GaussianNoiseTests {
    /// 10⁶ draws with σ = zC = 1.3 × 2: the sample std's standard error is σ/√(2N) ≈ 0.07%
    /// of σ, so a 1% tolerance is 14 standard errors (and the seed makes it deterministic);
    /// the mean is within 5σ/√N; the kurtosis (3 for a normal, standard error √(24/N) ≈ 0.005)
    /// within 0.05, which catches a uniform or a wrongly scaled pair.
    @Test func addedNoiseHasTheRequestedStandardDeviation() {
        var generator = TestGenerator(seed: 3)
        let sigma = 1.3 * 2.0
        var values = [Float](repeating: 0, count: 1_000_001)  // odd: the last coordinate takes the unpaired path
        GaussianNoise(standardDeviation: sigma).add(to: &values, using: &generator)
        var moments = Moments()
        for value in values { moments.add(Double(value)) }
        #expect(abs(moments.standardDeviation / sigma - 1) < 0.01, "std \(moments.standardDeviation) vs \(sigma)")
        #expect(abs(moments.mean) < 5 * sigma / 1000)
        #expect(abs(moments.kurtosisAboutZero - 3) < 0.05, "kurtosis \(moments.kurtosisAboutZero)")
        #expect(values.last != 0)
    }

    /// The same with the OS source (not reproducible, so fewer draws and a wider 3%: still
    /// over 10 standard errors).
    @Test func secureRandomNoiseHasTheRequestedStandardDeviation() throws {
        var values = [Float](repeating: 0, count: 100_000)
        try GaussianNoise(standardDeviation: 0.5).add(to: &values)
        var moments = Moments()
        for value in values { moments.add(Double(value)) }
        #expect(abs(moments.standardDeviation / 0.5 - 1) < 0.03)
    }

    /// Bits from the OS source look random: across 10⁵ words (past several buffer refills),
    /// each bit position is set within 2% of half the time (6 standard errors), and the
    /// words are all distinct. Copies share a buffer, so they never replay each other.
    @Test func secureRandomBitsAreBalancedAndCopiesDoNotRepeat() throws {
        var generator = try SecureRandom()
        var counts = [Int](repeating: 0, count: 64)
        var seen = Set<UInt64>()
        for _ in 0..<100_000 {
            let word = generator.next()
            seen.insert(word)
            for bit in 0..<64 where word & (1 << UInt64(bit)) != 0 { counts[bit] += 1 }
        }
        #expect(seen.count == 100_000)
        for count in counts { #expect(abs(Double(count) / 100_000 - 0.5) < 0.02) }
        var copy = generator
        #expect(copy.next() != generator.next())
    }

    @Test func zeroDeviationLeavesValuesAlone() {
        var generator = TestGenerator(seed: 1)
        var values: [Float] = [1, 2, 3]
        GaussianNoise(standardDeviation: 0).add(to: &values, using: &generator)
        #expect(values == [1, 2, 3])
    }
}
