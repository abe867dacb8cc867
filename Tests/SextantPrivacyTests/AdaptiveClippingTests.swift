import Foundation
import Testing

@testable import SextantPrivacy

@Suite struct AdaptiveClippingTests {
    /// The median of |N(0,1)|·10: 10·Φ⁻¹(0.75).
    static let medianNorm = 6.744897501960817

    /// Rounds of m = 100 clients whose update norms are |N(0,1)|·10, with σ_b = m/20 = 5
    /// (the fraction's noise has std 0.05) and γ = 0.5, from C₀ 100× too small and 100× too
    /// large. Reaching the median takes ln(100)/(η·0.5) ≈ 46 rounds at full speed; after 300
    /// rounds the geometric mean of C over the last 100 must be within 5% of the median and
    /// every one of them within 25%. In steady state log C wanders with per-round std about
    /// η·√(0.05² + 0.05²) ≈ 0.014 around a mean-reverting point, so these bounds are several
    /// times the fluctuation (the seed makes the run deterministic).
    @Test(arguments: [0.01, 100.0])
    func convergesToTheTargetQuantile(initialFactor: Double) throws {
        var generator = TestGenerator(seed: 42)
        let m = 100
        var clipping = try AdaptiveClipping(
            configuration: .init(initialClipNorm: Self.medianNorm * initialFactor), noiseMultiplier: 1.0,
            clientsPerRound: m)
        #expect(clipping.indicatorNoiseStandardDeviation == 5)
        var history: [Double] = []
        var sum = [Float](repeating: 0, count: 4)
        for _ in 0..<300 {
            var unclipped = 0
            for _ in 0..<m {
                let norm = abs(GaussianNoise.normal(using: &generator)) * 10
                unclipped += clipping.indicator(forNorm: norm)
            }
            let outcome = sum.withUnsafeMutableBufferPointer {
                clipping.noiseAndUpdate(sum: $0, unclippedCount: unclipped, using: &generator)
            }
            history.append(outcome.clipNorm)
        }
        let tail = history.suffix(100)
        let geometricMean = exp(tail.reduce(0.0) { $0 + log($1) } / Double(tail.count))
        print(
            "adaptive clipping from \(initialFactor)x: geometric mean of last 100 C = \(geometricMean), range \(tail.min()!)...\(tail.max()!), median \(Self.medianNorm)"
        )
        #expect(abs(geometricMean / Self.medianNorm - 1) < 0.05, "geometric mean \(geometricMean)")
        #expect(tail.allSatisfy { abs($0 / Self.medianNorm - 1) < 0.25 }, "range \(tail.min()!)...\(tail.max()!)")
        #expect(clipping.round == 300)
    }

    /// `z_Δ = (z⁻² - σ_b⁻²)^(-1/2)` (raw bits: the count has sensitivity 1): with z = 1 and
    /// σ_b = 5, z_Δ = (1 - 0.04)^(-1/2); the combination inverts the split (1e-15: a few
    /// roundings of numbers near 1).
    @Test func updateNoiseMultiplierFollowsTheSplit() throws {
        let clipping = try AdaptiveClipping(
            configuration: .init(initialClipNorm: 1), noiseMultiplier: 1, clientsPerRound: 100)
        #expect(abs(clipping.updateNoiseMultiplier - 1 / 0.96.squareRoot()) < 1e-15)
        let combined = AdaptiveClipping.combinedNoiseMultiplier(
            updateNoiseMultiplier: clipping.updateNoiseMultiplier, indicatorNoiseStandardDeviation: 5)
        #expect(abs(combined - 1) < 1e-15)
        #expect(try AdaptiveClipping.updateNoiseMultiplier(noiseMultiplier: 0, indicatorNoiseStandardDeviation: 1) == 0)
    }

    @Test func noiseMultiplierAtOrAboveTheIndicatorNoiseIsRefused() {
        // m = 10: σ_b = 0.5, so z must be < 0.5.
        #expect {
            try AdaptiveClipping(configuration: .init(initialClipNorm: 1), noiseMultiplier: 0.5, clientsPerRound: 10)
        } throws: { error in
            let error = error as? PrivacyError
            return error?.code == .invalidConfiguration && error!.message.contains("must be below σ_b = 0.5")
        }
        #expect(throws: Never.self) {
            try AdaptiveClipping(configuration: .init(initialClipNorm: 1), noiseMultiplier: 0.49, clientsPerRound: 10)
        }
    }

    /// The sum is noised with C_t (before the update), not C_{t+1}: with every client
    /// unclipped C falls by exp(-0.1) or so, and the empirical noise std over 2·10⁵
    /// coordinates (within 1%, 15 standard errors) must match z_Δ·C_t, which differs from
    /// z_Δ·C_{t+1} by ~10%.
    @Test func sumIsNoisedWithTheCurrentClipNormThenUpdated() throws {
        var generator = TestGenerator(seed: 8)
        var clipping = try AdaptiveClipping(
            configuration: .init(initialClipNorm: 2), noiseMultiplier: 1, clientsPerRound: 100)
        let expected = clipping.updateNoiseMultiplier * 2
        var sum = [Float](repeating: 0, count: 200_000)
        let outcome = sum.withUnsafeMutableBufferPointer {
            clipping.noiseAndUpdate(sum: $0, unclippedCount: 100, using: &generator)
        }
        var moments = Moments()
        for value in sum { moments.add(Double(value)) }
        #expect(abs(moments.standardDeviation / expected - 1) < 0.01)
        #expect(outcome.previousClipNorm == 2)
        #expect(outcome.clipNorm < 2 && outcome.clipNorm == clipping.clipNorm)
        #expect(abs(outcome.clipNorm - 2 * exp(-0.2 * (outcome.noisyUnclippedFraction - 0.5))) < 1e-15)
        #expect(outcome.noisyUnclippedFraction <= 1)  // clamped at m/m
    }
}
