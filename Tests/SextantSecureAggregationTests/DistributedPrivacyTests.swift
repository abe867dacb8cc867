import Foundation
import SextantBase
import Testing

@testable import SextantSecureAggregation

@Suite("Distributed discrete Gaussian")
struct DistributedPrivacyTests {
    /// The discrete Gaussian's mass at each integer within 12 σ, normalised (the mass beyond
    /// is below 1e-30).
    static func mass(variance: Double) -> [Int: Double] {
        let reach = Int((12 * variance.squareRoot()).rounded(.up)) + 1
        var weights: [Int: Double] = [:]
        for x in -reach...reach { weights[x] = exp(-Double(x * x) / (2 * variance)) }
        let total = weights.values.reduce(0, +)
        return weights.mapValues { $0 / total }
    }

    @Test("samples follow the discrete Gaussian's mass (chi-square, seeded)", arguments: [0.7, 3.0, 40.0])
    func samplerMatchesMass(sigma: Double) throws {
        let sampler = try DiscreteGaussianSampler(standardDeviation: sigma)
        var generator = SeededGenerator(seed: 21)
        let count = 100_000
        var histogram: [Int64: Int] = [:]
        var sumOfSquares = 0.0
        for _ in 0..<count {
            let x = sampler.sample(using: &generator)
            histogram[x, default: 0] += 1
            sumOfSquares += Double(x * x)
        }
        let mass = Self.mass(variance: sampler.variance)
        // Bins of expected count >= 20; the rest pooled into the two tails.
        var statistic = 0.0
        var bins = 0
        var pooledExpected = 0.0
        var pooledObserved = 0
        for (x, p) in mass.sorted(by: { $0.key < $1.key }) {
            let expected = p * Double(count)
            let observed = histogram[Int64(x)] ?? 0
            if expected >= 20 {
                statistic += (Double(observed) - expected) * (Double(observed) - expected) / expected
                bins += 1
            } else {
                pooledExpected += expected
                pooledObserved += observed
            }
        }
        if pooledExpected > 0 {
            statistic +=
                (Double(pooledObserved) - pooledExpected) * (Double(pooledObserved) - pooledExpected) / pooledExpected
            bins += 1
        }
        // Wilson-Hilferty approximation of the chi-square 0.999 quantile with bins - 1 degrees.
        let k = Double(bins - 1)
        let quantile = k * pow(1 - 2 / (9 * k) + 3.090 * (2 / (9 * k)).squareRoot(), 3)
        #expect(statistic < quantile)
        let variance = mass.reduce(0.0) { $0 + Double($1.key * $1.key) * $1.value }
        // Relative standard error of a sample variance is about sqrt(2 / count) = 0.0045.
        #expect(abs(sumOfSquares / Double(count) - variance) / variance < 0.03)
    }

    @Test("Bernoulli(exp(-n/d)) has its probability")
    func bernoulliExp() {
        var generator = SeededGenerator(seed: 8)
        for (n, d) in [(UInt128(1), UInt128(3)), (5, 2), (0, 1)] {
            let trials = 50_000
            var hits = 0
            for _ in 0..<trials where DiscreteGaussianSampler.bernoulliExpMinus(n, d, using: &generator) { hits += 1 }
            let p = exp(-Double(n) / Double(d))
            // Four standard errors.
            #expect(abs(Double(hits) / Double(trials) - p) <= 4 * (p * (1 - p) / Double(trials)).squareRoot() + 1e-12)
        }
    }

    @Test("noise added in the ring decodes as noise around the sum")
    func noiseInTheRing() throws {
        let quantizer = try RingQuantizer(
            configuration: .init(clipNorm: 1, maxMembers: 4, noiseStandardDeviation: 0.01), dimension: 1000)
        let sampler = try DiscreteGaussianSampler(standardDeviation: 0.01 * quantizer.scale)
        var generator = SeededGenerator(seed: 2)
        var sum = [UInt32](repeating: 0, count: 1000)
        for _ in 0..<4 {
            var encoded = try [Float](repeating: -0.01, count: 1000).withUnsafeBufferPointer {
                try quantizer.encode($0, using: &generator)
            }
            sampler.addNoise(to: &encoded, using: &generator)
            for index in 0..<1000 { sum[index] &+= encoded[index] }
        }
        let decoded = try quantizer.decode(sum: sum)
        let errors = decoded.map { $0 + 0.04 }
        let spread = (errors.reduce(0) { $0 + $1 * $1 } / 1000).squareRoot()
        // Summed noise of deviation 0.01 sqrt(4) = 0.02; the rounding adds far less.
        #expect(abs(spread - 0.02) < 0.003)
        #expect(quantizer.noiseWrapProbabilityBound < 1e-10)
        // The production path draws from the system's secure generator.
        var zeros = [UInt32](repeating: 0, count: 100)
        try sampler.addNoise(to: &zeros)
        #expect(zeros.contains { $0 != 0 })
    }

    /// ε recomputed from the formulas written out here, apart from the module's code: the
    /// sensitivity from clipping, scale and conditional rounding; τ; the RDP of the sum of the
    /// members' discrete Gaussians composed over rounds; the improved RDP-to-(ε, δ) conversion.
    @Test("epsilon of a run with client-placed discrete Gaussian noise, recomputed independently")
    func epsilonRecomputed() throws {
        let members = 6
        let dimension = 100_000
        let clip = 1.0
        let noiseMultiplier = 2.0  // σ_sum = z C, shared among the members
        let rounds = 20
        let delta = 1e-5
        let perMemberDeviation = noiseMultiplier * clip / Double(members).squareRoot()
        let quantizer = try RingQuantizer(
            configuration: .init(
                bits: 32, clipNorm: clip, maxMembers: members, noiseStandardDeviation: perMemberDeviation),
            dimension: dimension)
        let sampler = try DiscreteGaussianSampler(standardDeviation: perMemberDeviation * quantizer.scale)
        let guarantee = try DistributedDiscreteGaussianAccounting.epsilon(
            round: .init(quantizer: quantizer, sampler: sampler, members: members), rounds: rounds, delta: delta)

        // By hand. Scale: the largest s with n (s C + 1) + 8 σ s sqrt(n) <= 2^31 - 1.
        let s = (2_147_483_647.0 - 6) / (6 * clip + 8 * perMemberDeviation * 6.0.squareRoot())
        #expect(abs(quantizer.scale / s - 1) < 1e-8)
        let sc = s * clip
        let d = Double(dimension)
        let beta = exp(-0.5)
        let sensitivity = min(
            sc + d.squareRoot(),
            (sc * sc + d / 4 + (2 * log(1 / beta)).squareRoot() * (sc + d.squareRoot() / 2)).squareRoot())
        let variance = sampler.variance
        #expect(abs(variance / (perMemberDeviation * s * perMemberDeviation * s) - 1) < 1e-6)
        var tau = 0.0
        for k in stride(from: members - 1, through: 1, by: -1) {
            tau += 10 * exp(-2 * Double.pi * Double.pi * variance * Double(k) / Double(k + 1))
        }
        func rdp(_ alpha: Double) -> Double {
            let z = sensitivity / (Double(members) * variance).squareRoot()
            return Double(rounds) * min(alpha * z * z / 2 + tau * d, alpha / 2 * pow(z + tau * d.squareRoot(), 2))
        }
        func epsilon(_ alpha: Double) -> Double {
            rdp(alpha) + log((alpha - 1) / alpha) - (log(delta) + log(alpha)) / (alpha - 1)
        }
        // At the order the module chose, the same number, to 1e-8 relative: the two computations
        // order their floating-point operations differently, on squares near 1e16 (Δ²).
        #expect(abs(epsilon(guarantee.order) - guarantee.epsilon) < 1e-8 * guarantee.epsilon)
        // Over a fine grid of orders, the minimum is no lower than a hair below the module's.
        let fine = stride(from: 1.01, through: 512, by: 0.01).map(epsilon).min()!
        #expect(fine <= guarantee.epsilon + 1e-12)
        #expect(fine >= guarantee.epsilon * 0.98)
        // With τ negligible here, ε is the continuous Gaussian's of multiplier Δ / (σ sqrt(n)),
        // which is z C s / (C s) up to rounding: close to z.
        #expect(tau < 1e-100)
        let effective = (Double(members) * variance).squareRoot() / sensitivity
        #expect(abs(effective - noiseMultiplier) < 0.01)
    }

    @Test("with little noise per member, τ makes the sum worse than one Gaussian of the total")
    func tauMatters() {
        let round = DistributedDiscreteGaussianAccounting.Round(
            sensitivity: 1, variance: 0.05, members: 20, dimension: 10)
        let tau = DistributedDiscreteGaussianAccounting.tau(variance: 0.05, members: 20)
        #expect(tau > 1)
        let withTau = DistributedDiscreteGaussianAccounting.rdp(order: 4, round: round)
        let gaussianOfTheTotal: Double = 4.0 / (2.0 * 20.0 * 0.05)
        #expect(withTau > gaussianOfTheTotal)
    }
}
