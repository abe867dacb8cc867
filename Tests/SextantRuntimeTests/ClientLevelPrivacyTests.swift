import Foundation
import SextantAggregation
import SextantBenchmarks
import SextantML
import SextantPrivacy
import SextantScheduling
import Testing

@testable import SextantClient
@testable import SextantLauncher
@testable import SextantRuntime
@testable import SextantServer
@testable import SextantSimulation

@Suite struct ClientLevelPrivacyTests {
    func fixed(z: Double = 1.5, c: Double = 2, q: Double = 1, n: Int = 4, placement: NoisePlacement = .server)
        throws -> ClientLevelPrivacy
    {
        try ClientLevelPrivacy(
            configuration: .init(
                noiseMultiplier: z, clipping: .fixed(c), delta: 1e-5, placement: placement, sampleRate: q,
                expectedClientsPerEvent: n))
    }

    func equalContributions(_ m: Int, c: Double = 2) -> [ClientLevelPrivacy.Contribution] {
        (0..<m).map { .init(client: "c\($0)", coefficient: 1 / Double(m), clipNorm: c, unclipped: $0 % 2 == 0) }
    }

    static func standardDeviation(_ values: [Float]) -> (mean: Double, deviation: Double) {
        let mean = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
        let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(values.count - 1)
        return (mean, variance.squareRoot())
    }

    @Test func noiseOnAZeroSumHasStandardDeviationZCOverM() throws {
        var privacy = try fixed()
        var generator = SeededGenerator(seed: 7)
        var noise = [Float](repeating: 0, count: 200_000)
        let outcome = try noise.withUnsafeMutableBufferPointer { buffer in
            try privacy.finishEvent(
                newVersion: 1, contributions: equalContributions(4), noise: buffer, using: &generator)
        }
        // Equal weights 1/4 and C = 2: S = C/4 = 0.5, std = z·S = 0.75 (zC on the sum, then / m).
        #expect(abs(outcome.sensitivity - 0.5) < 1e-15)
        #expect(abs(outcome.noiseStandardDeviation - 0.75) < 1e-15)
        let (mean, deviation) = Self.standardDeviation(noise)
        // The sample std of 200,000 normals has relative standard error 1/sqrt(2n) = 0.16%;
        // 1% is over 6 standard errors. The mean's standard error is 0.75/sqrt(n) = 0.0017.
        #expect(abs(deviation / 0.75 - 1) < 0.01)
        #expect(abs(mean) < 0.01)
        #expect(outcome.effectiveNoiseMultiplier == 1.5)
        #expect(outcome.clippedUpdates == 2)
    }

    @Test func sensitivityFollowsTheLargestClientIncludingTwoUpdatesOfOneClient() throws {
        var privacy = try fixed(z: 1, c: 1)
        var generator = SeededGenerator(seed: 1)
        var noise = [Float](repeating: 0, count: 4)
        let contributions: [ClientLevelPrivacy.Contribution] = [
            .init(client: "a", coefficient: 0.2, clipNorm: 1, unclipped: true),
            .init(client: "a", coefficient: 0.1, clipNorm: 2, unclipped: true),  // a late update with an older C
            .init(client: "b", coefficient: 0.3, clipNorm: 1, unclipped: true),
        ]
        let outcome = try noise.withUnsafeMutableBufferPointer {
            try privacy.finishEvent(newVersion: 1, contributions: contributions, noise: $0, using: &generator)
        }
        #expect(abs(outcome.sensitivity - 0.4) < 1e-15)
        #expect(outcome.clients == 2)
    }

    @Test(arguments: [1.0, 0.3])
    func epsilonGrowsWithEventsAndMatchesTheAccountant(sampleRate: Double) throws {
        var privacy = try fixed(z: 1.2, q: sampleRate)
        var accountant = RDPAccountant()
        var generator = SeededGenerator(seed: 3)
        var noise = [Float](repeating: 0, count: 8)
        var previous = 0.0
        for version in 1...5 {
            let outcome = try noise.withUnsafeMutableBufferPointer {
                try privacy.finishEvent(
                    newVersion: version, contributions: equalContributions(4), noise: $0, using: &generator)
            }
            try accountant.compose(noiseMultiplier: 1.2, sampleRate: sampleRate, steps: 1)
            let direct = try accountant.epsilon(delta: 1e-5)
            #expect(outcome.epsilon > previous)
            #expect(abs(outcome.epsilon - direct.epsilon) <= 1e-12 * direct.epsilon)
            #expect(outcome.order == direct.order)
            previous = outcome.epsilon
        }
        #expect(privacy.events == 5)
        let fiveAtOnce = try RDPAccountant.epsilon(noiseMultiplier: 1.2, sampleRate: sampleRate, steps: 5, delta: 1e-5)
        #expect(abs(privacy.epsilon - fiveAtOnce.epsilon) <= 1e-12 * fiveAtOnce.epsilon)
    }

    @Test func anEventWithoutUpdatesSpendsNothing() throws {
        var privacy = try fixed()
        var generator = SeededGenerator(seed: 3)
        var noise = [Float](repeating: 0, count: 8)
        let outcome = try noise.withUnsafeMutableBufferPointer {
            try privacy.finishEvent(newVersion: 1, contributions: [], noise: $0, using: &generator)
        }
        #expect(outcome.epsilon == 0)
        #expect(privacy.epsilon == 0)
        #expect(privacy.events == 0)
        #expect(privacy.rdp.allSatisfy { $0 == 0 })
        #expect(noise.allSatisfy { $0 == 0 })
    }

    @Test func clientSideNoiseIsChargedForTheClientsThatArrived() throws {
        var privacy = try fixed(z: 1, c: 1, n: 4, placement: .client)
        #expect(privacy.clientNoiseMultiplier == 0.5)  // z/sqrt(4)
        var generator = SeededGenerator(seed: 3)
        var noise = [Float](repeating: 0, count: 8)
        // Two of the four expected clients arrive, weights 1/2: the noise in g has std
        // sqrt(2 · (1/2)² · (0.5)²) = 0.3536, S = 0.5, so z_eff = 1/sqrt(2).
        let outcome = try noise.withUnsafeMutableBufferPointer {
            try privacy.finishEvent(
                newVersion: 1, contributions: equalContributions(2, c: 1), noise: $0, using: &generator)
        }
        #expect(noise.allSatisfy { $0 == 0 })  // the server adds nothing
        #expect(abs(outcome.effectiveNoiseMultiplier - 1 / 2.0.squareRoot()) < 1e-12)
        let direct = try RDPAccountant.epsilon(
            noiseMultiplier: 1 / 2.0.squareRoot(), sampleRate: 1, steps: 1, delta: 1e-5)
        #expect(abs(outcome.epsilon - direct.epsilon) < 1e-12 * direct.epsilon)
    }

    /// Without secure aggregation the server sees each update with only its share of the
    /// noise, `z/√n` (0.5 here): after 3 events in which one client sent two updates once,
    /// the server-observer ε is that of 4 Gaussian releases of multiplier 0.5 (RDP 4·α/(2·0.25),
    /// converted here without the accountant, over its orders; 1e-9 relative: the same sums in
    /// another order), above the final-model ε (25.9 against 13.8 here; per event its RDP is
    /// n times the final model's). Server-side noise has no such figure.
    @Test func clientSideNoiseReportsTheEpsilonAgainstTheServer() throws {
        var privacy = try fixed(z: 1, c: 1, n: 4, placement: .client)
        #expect(privacy.serverObserverEpsilon == 0)
        var generator = SeededGenerator(seed: 3)
        var noise = [Float](repeating: 0, count: 4)
        var outcome: ClientLevelPrivacy.EventOutcome?
        for version in 1...3 {
            var contributions = equalContributions(4, c: 1)
            if version == 2 { contributions[1].client = "c0" }  // c0 sends two updates in this event
            outcome = try noise.withUnsafeMutableBufferPointer {
                try privacy.finishEvent(newVersion: version, contributions: contributions, noise: $0, using: &generator)
            }
        }
        let expected = privacy.orders.map { alpha in
            4 * alpha / (2 * 0.25) + log(1 - 1 / alpha) - (log(1e-5) + log(alpha)) / (alpha - 1)
        }.min()!
        let reported = try #require(outcome?.serverObserverEpsilon)
        #expect(abs(reported / expected - 1) < 1e-9, "\(reported) vs \(expected)")
        #expect(privacy.serverObserverEpsilon == reported)
        #expect(reported > privacy.epsilon)
        let restored = try JSONDecoder().decode(ClientLevelPrivacy.self, from: JSONEncoder().encode(privacy))
        #expect(restored.serverObserverEpsilon == reported)
        var server = try fixed(z: 1, c: 1, n: 4, placement: .server)
        let serverOutcome = try noise.withUnsafeMutableBufferPointer {
            try server.finishEvent(newVersion: 1, contributions: equalContributions(4), noise: $0, using: &generator)
        }
        #expect(serverOutcome.serverObserverEpsilon == nil && server.serverObserverEpsilon == nil)
    }

    @Test func adaptiveClippingIsAccountedAsOneMechanismAndMovesC() throws {
        let settings = ClientLevelPrivacy.AdaptiveSettings(initialClipNorm: 1, indicatorNoise: 2)
        var privacy = try ClientLevelPrivacy(
            configuration: .init(
                noiseMultiplier: 1, clipping: .adaptive(settings), delta: 1e-5, expectedClientsPerEvent: 10))
        // z_Δ = (1 - 1/σ_b²)^(-1/2) = (1 - 1/4)^(-1/2)
        #expect(abs(privacy.updateNoiseMultiplier - 1 / 0.75.squareRoot()) < 1e-12)
        var generator = SeededGenerator(seed: 11)
        var noise = [Float](repeating: 0, count: 4)
        let all = (0..<10).map {
            ClientLevelPrivacy.Contribution(client: "c\($0)", coefficient: 0.1, clipNorm: 1, unclipped: true)
        }
        let outcome = try noise.withUnsafeMutableBufferPointer {
            try privacy.finishEvent(newVersion: 1, contributions: all, noise: $0, using: &generator)
        }
        #expect(abs(outcome.effectiveNoiseMultiplier - 1) < 1e-12)
        #expect(abs(outcome.noiseStandardDeviation - privacy.updateNoiseMultiplier * 0.1) < 1e-12)
        // Every update fit: C shrinks, by exp(-0.2 (b̃ - 0.5)).
        let fraction = try #require(outcome.noisyUnclippedFraction)
        #expect(abs(outcome.clipNorm - exp(-0.2 * (fraction - 0.5))) < 1e-12)
        #expect(outcome.clipNorm < 1)
        #expect(privacy.currentClipNorm == outcome.clipNorm)
        #expect(privacy.clipNorm(atVersion: 0) == 1)
        #expect(privacy.clipNorm(atVersion: 1) == outcome.clipNorm)
    }

    @Test func stateSurvivesACodableRoundTrip() throws {
        let settings = ClientLevelPrivacy.AdaptiveSettings(
            initialClipNorm: 0.5, targetQuantile: 0.6, indicatorNoise: 3)
        var privacy = try ClientLevelPrivacy(
            configuration: .init(
                noiseMultiplier: 1.1, clipping: .adaptive(settings), delta: 1e-6, placement: .client, sampleRate: 0.5,
                expectedClientsPerEvent: 6),
            version: 3)
        var generator = SeededGenerator(seed: 5)
        var noise = [Float](repeating: 0, count: 4)
        for version in 4...6 {
            _ = try noise.withUnsafeMutableBufferPointer {
                try privacy.finishEvent(
                    newVersion: version, contributions: equalContributions(6), noise: $0, using: &generator)
            }
        }
        let data = try JSONEncoder().encode(privacy)
        var restored = try JSONDecoder().decode(ClientLevelPrivacy.self, from: data)
        #expect(restored == privacy)
        #expect(restored.events == 3)
        #expect(restored.clipNorm(atVersion: 5) == privacy.clipNorm(atVersion: 5))
        var first = generator
        var second = generator
        let a = try noise.withUnsafeMutableBufferPointer {
            try privacy.finishEvent(newVersion: 7, contributions: equalContributions(6), noise: $0, using: &first)
        }
        let b = try noise.withUnsafeMutableBufferPointer {
            try restored.finishEvent(newVersion: 7, contributions: equalContributions(6), noise: $0, using: &second)
        }
        #expect(a == b)
    }

    @Test func theServerClipsAnUpdateThatWasNotClipped() throws {
        let privacy = try fixed(c: 1)
        var delta: [Float] = [3, 4]
        let admission = delta.withUnsafeMutableBufferPointer {
            privacy.admit($0, baseVersion: 0, normBeforeClip: 0.5)  // the client lied
        }
        #expect(admission.clippedByServer)
        #expect(!admission.unclipped)
        #expect(L2Clipping.norm(of: delta) <= 1 + 1e-6)
        var honest: [Float] = [0.3, 0.4]
        let second = honest.withUnsafeMutableBufferPointer { privacy.admit($0, baseVersion: 0, normBeforeClip: 0.5) }
        #expect(!second.clippedByServer && second.unclipped)
        #expect(honest == [0.3, 0.4])
        // A client that clipped reports its norm above C: clipped, but not by the server.
        var clipped: [Float] = [0.6, 0.8]
        let third = clipped.withUnsafeMutableBufferPointer { privacy.admit($0, baseVersion: 0, normBeforeClip: 5) }
        #expect(!third.clippedByServer && !third.unclipped)
    }

    @Test func privatizeAddsTheNoiseAsABucketOfTheAggregation() throws {
        var privacy = try fixed(z: 2, c: 1)
        var ledger = PrivacyLedger()
        var accumulator = DeltaAccumulator(parameterCount: 50_000)
        let zero = [Float](repeating: 0, count: 50_000)
        // FedAvg with equal weights: accumulate with weight 1, bucket coefficient 1/m.
        for id in Int64(1)...4 {
            var delta = zero
            let admission = delta.withUnsafeMutableBufferPointer {
                privacy.admit($0, baseVersion: 0, normBeforeClip: 0)
            }
            ledger.arrived(updateID: id, client: "c\(id)", admission: admission)
            ledger.accumulated(updateID: id, bucket: "round-0", weight: 1)
            delta.withUnsafeBufferPointer { accumulator.accumulate($0, weight: 1, into: "round-0") }
        }
        let aggregation = Aggregation(
            newVersion: 1, buckets: [BucketWeight(bucket: "round-0", coefficient: 0.25)],
            updates: (1...4).map { AppliedUpdate(id: $0, client: "c\($0)", staleness: 0) })
        var generator = SeededGenerator(seed: 9)
        let (noised, outcome) = try privacy.privatize(
            aggregation, ledger: &ledger, accumulator: &accumulator, using: &generator)
        #expect(ledger.count == 0)
        #expect(noised.buckets.count == 2)
        #expect(outcome.noiseStandardDeviation == 0.5)  // z·C/m
        var model = zero
        var optimizer = ServerOptimizer(parameterCount: 50_000)
        model.withUnsafeMutableBufferPointer { optimizer.apply(noised, accumulator: &accumulator, to: $0) }
        // 50,000 draws: relative standard error of the std 0.32%; 2% is over 6 of them.
        let (_, deviation) = Self.standardDeviation(model)
        #expect(abs(deviation / 0.5 - 1) < 0.02)
        #expect(accumulator.openBuckets.isEmpty)
    }
}

@Suite struct ClientUpdatePrivacyTests {
    @Test func clippedNormsNeverExceedC() {
        var generator = SeededGenerator(seed: 2)
        let privacy = ClientUpdatePrivacy(clipNorm: 1)
        for trial in 0..<200 {
            let scale = Float(trial) / 20
            var delta = (0..<257).map { _ in Float(generator.nextNormal()) * scale / 16 }
            let before = L2Clipping.norm(of: delta)
            let outcome = privacy.apply(to: &delta, using: &generator)
            // Float rounding of the scaled vector: at most 2^-23 relative (L2Clipping's note).
            #expect(L2Clipping.norm(of: delta) <= 1 + 1e-6)
            #expect(outcome.normBeforeClip == before)
            #expect(outcome.clipped == (before > 1))
        }
    }

    @Test func noClipNormMeansNothingIsDone() {
        var generator = SeededGenerator(seed: 2)
        var delta: [Float] = [30, 40]
        let outcome = ClientUpdatePrivacy(clipNorm: 0).apply(to: &delta, using: &generator)
        #expect(delta == [30, 40])
        #expect(outcome == .init(normBeforeClip: 50, clipped: false))
    }

    @Test func aBrokenDeltaIsZeroedAndReportedClipped() {
        var generator = SeededGenerator(seed: 2)
        var delta: [Float] = [.nan, 1]
        let outcome = ClientUpdatePrivacy(clipNorm: 1).apply(to: &delta, using: &generator)
        #expect(delta == [0, 0])
        #expect(outcome.clipped && outcome.normBeforeClip == .greatestFiniteMagnitude)
    }

    @Test func theClientShareHasTheAssignedStandardDeviation() {
        var generator = SeededGenerator(seed: 4)
        var delta = [Float](repeating: 0, count: 100_000)
        _ = ClientUpdatePrivacy(clipNorm: 2, noiseMultiplier: 0.25).apply(to: &delta, using: &generator)
        let (_, deviation) = ClientLevelPrivacyTests.standardDeviation(delta)
        // std 0.5; relative standard error 0.22%, tolerance 1.5%.
        #expect(abs(deviation / 0.5 - 1) < 0.015)
    }
}
