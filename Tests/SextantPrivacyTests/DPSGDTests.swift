import Foundation
import Testing

@testable import SextantPrivacy

@Suite struct DPSGDTests {
    /// With z = 0 the output is Σ clip(g) / (qn), computed here by hand in Double:
    /// g1 = (3, 4) has norm 5 > C = 1 → (0.6, 0.8); g2 = (0.3, 0.4) norm 0.5 stays;
    /// g3 = (0, -2) → (0, -1). Sum (0.9, 0.2); with q·n = 2.5 the result is (0.36, 0.08).
    /// Float rounding of the scale and the sum: 1e-6 absolute.
    @Test func noiselessOutputEqualsHandComputation() {
        var generator = TestGenerator(seed: 1)
        var dpsgd = DPSGD(parameterCount: 2, clipNorm: 1, noiseMultiplier: 0)
        dpsgd.accumulateClipped(gradient: [3, 4])
        dpsgd.accumulateClipped(gradient: [0.3, 0.4])
        dpsgd.accumulateClipped(gradient: [0, -2])
        #expect(dpsgd.exampleCount == 3 && dpsgd.clippedCount == 2)
        let result = dpsgd.finish(expectedBatchSize: 2.5, using: &generator)
        #expect(abs(result[0] - 0.36) < 1e-6 && abs(result[1] - 0.08) < 1e-6, "\(result)")
        #expect(dpsgd.exampleCount == 0 && dpsgd.sum == [0, 0])
    }

    /// Random gradients against a hand loop in Double (z = 0), through the callback API.
    @Test func callbackAPIMatchesAHandLoop() {
        var generator = TestGenerator(seed: 2)
        let dimension = 50
        let gradients = (0..<40).map { _ in
            (0..<dimension).map { _ in Float(GaussianNoise.normal(using: &generator) * 0.3) }
        }
        var expected = [Double](repeating: 0, count: dimension)
        for gradient in gradients {
            let norm = gradient.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            let factor = min(1, 1.5 / norm)
            for index in 0..<dimension { expected[index] += Double(gradient[index]) * factor }
        }
        var dpsgd = DPSGD(parameterCount: dimension, clipNorm: 1.5, noiseMultiplier: 0)
        let result = dpsgd.privatizedGradient(examples: 0..<40, expectedBatchSize: 32, using: &generator) {
            example, buffer in
            for index in 0..<dimension { buffer[index] = gradients[example][index] }
        }
        for index in 0..<dimension {
            #expect(abs(Double(result[index]) - expected[index] / 32) < 1e-5)
        }
    }

    /// With zero gradients the output is pure noise of std zC/(qn): 2·10⁵ coordinates,
    /// within 1% (15 standard errors).
    @Test func noiseHasStandardDeviationZCOverExpectedBatch() {
        var generator = TestGenerator(seed: 4)
        var dpsgd = DPSGD(parameterCount: 200_000, clipNorm: 0.7, noiseMultiplier: 1.2)
        let zero = [Float](repeating: 0, count: 200_000)
        dpsgd.accumulateClipped(gradient: zero)
        let result = dpsgd.finish(expectedBatchSize: 64, using: &generator)
        var moments = Moments()
        for value in result { moments.add(Double(value)) }
        #expect(abs(moments.standardDeviation / (1.2 * 0.7 / 64) - 1) < 0.01)
    }
}

@Suite struct PoissonSamplerTests {
    /// n = 10 000, q = 0.01: a batch has mean qn = 100 and variance qn(1-q) = 99; over 2000
    /// batches the mean's standard error is 0.22, so ±1 is 4.5 standard errors; the sample
    /// variance is within 10% (its standard error is ~3%).
    @Test func meanBatchSizeIsQN() {
        var generator = TestGenerator(seed: 9)
        let sampler = PoissonSampler(sampleRate: 0.01, populationSize: 10_000)
        var moments = Moments()
        for _ in 0..<2000 {
            let batch = sampler.sample(using: &generator)
            #expect(zip(batch, batch.dropFirst()).allSatisfy { $0 < $1 })
            #expect(batch.allSatisfy { (0..<10_000).contains($0) })
            moments.add(Double(batch.count))
        }
        #expect(abs(moments.mean - sampler.expectedBatchSize) < 1, "mean \(moments.mean)")
        #expect(abs(moments.variance / 99 - 1) < 0.1, "variance \(moments.variance)")
    }

    /// Every index, including the first and the last, is chosen with probability q: n = 10,
    /// q = 0.3, 20 000 draws; standard error √(0.21/20000) ≈ 0.0032, tolerance 0.016 (5 SE).
    @Test func everyIndexHasInclusionProbabilityQ() {
        var generator = TestGenerator(seed: 10)
        let sampler = PoissonSampler(sampleRate: 0.3, populationSize: 10)
        var counts = [Int](repeating: 0, count: 10)
        for _ in 0..<20_000 {
            for index in sampler.sample(using: &generator) { counts[index] += 1 }
        }
        for count in counts { #expect(abs(Double(count) / 20_000 - 0.3) < 0.016, "\(counts)") }
    }

    @Test func edgeRates() throws {
        var generator = TestGenerator(seed: 1)
        #expect(PoissonSampler(sampleRate: 0, populationSize: 5).sample(using: &generator).isEmpty)
        #expect(PoissonSampler(sampleRate: 1, populationSize: 5).sample(using: &generator) == [0, 1, 2, 3, 4])
        #expect(PoissonSampler(expectedBatchSize: 32, populationSize: 1000).sampleRate == 0.032)
        let secure = try PoissonSampler(sampleRate: 0.5, populationSize: 1000).sample()
        #expect(secure.count > 350 && secure.count < 650)  // 9.5 standard errors
    }
}
