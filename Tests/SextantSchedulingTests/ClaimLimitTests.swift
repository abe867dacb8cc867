import Foundation
import Testing

@testable import SextantScheduling

/// A client's sample count is its own claim (docs/design.md, "Trust no claim"): no claim
/// may trap the server, and none may buy a share above the configured maximum.
@Suite struct ClaimLimitTests {
    static let limits = ClaimLimits(maxSamplesPerClient: 1_000_000, maxClientShare: 0.5)

    /// Every scheduler, started with three honest clients of 100 samples and one liar.
    static func schedulers(limits: ClaimLimits) -> [(String, any Scheduler)] {
        [
            ("compass", CompassScheduler(configuration: .init(claimLimits: limits))),
            ("fedavg", FedAvgScheduler(configuration: .init(minimumClients: 4, claimLimits: limits))),
            ("fedasync", FedAsyncScheduler(configuration: .init(claimLimits: limits))),
            ("fedbuff", FedBuffScheduler(configuration: .init(bufferSize: 1, claimLimits: limits))),
        ]
    }

    /// The weight each scheduler gives to the first update of an honest client after `liar`
    /// joined claiming `claim` samples.
    func honestWeights(claim: Int, limits: ClaimLimits) -> [(String, Double?)] {
        Self.schedulers(limits: limits).map { name, scheduler in
            var s = scheduler
            for client in ["h1", "h2", "h3"] { _ = s.handle(.joined(client, samples: 100), now: 0) }
            _ = s.handle(.joined("liar", samples: claim), now: 0)
            let actions = s.handle(update(1, "h1", base: 0), now: 1)
            return (name, actions.accumulations.first?.weight)
        }
    }

    @Test("a claim of 2^64-1 samples (Int.max once clamped) traps no scheduler")
    func hugeClaimDoesNotTrap() {
        #expect(Weighting.samples.share(of: "a", samples: ["a": 100, "liar": Int.max, "b": Int.max]) >= 0)
        for (name, weight) in honestWeights(claim: Int.max, limits: .none) {
            #expect(weight != nil, "\(name) gave the honest update no weight")
        }
    }

    @Test("a claim of 2^62 samples does not silence the honest clients")
    func hugeClaimIsBounded() {
        for (name, weight) in honestWeights(claim: 1 << 62, limits: Self.limits) {
            // Three honest clients share at least the half the liar cannot have.
            #expect((weight ?? 0) >= 0.5 / 3 - 1e-12, "\(name): honest weight \(weight ?? 0)")
        }
    }

    @Test("no share exceeds the maximum; the excess goes to the others in proportion")
    func sharesAreCapped() {
        let samples = ["a": 100, "b": 300, "c": 600]
        let shares = samples.keys.sorted().map { Weighting.samples.share(of: $0, samples: samples, limits: .init(maxClientShare: 0.5)) }
        // c is cut to 0.5; a and b split the other half 1:3.
        #expect(abs(shares[0] - 0.125) < 1e-12 && abs(shares[1] - 0.375) < 1e-12 && abs(shares[2] - 0.5) < 1e-12)
        #expect(abs(shares.reduce(0, +) - 1) < 1e-12)
        // Two capped clients: the third gets the remainder.
        let two = ["a": 1, "b": 1000, "c": 1000]
        #expect(abs(Weighting.samples.share(of: "a", samples: two, limits: .init(maxClientShare: 0.4)) - 0.2) < 1e-12)
        // A cap below 1/N cannot hold: everyone gets 1/N.
        #expect(Weighting.samples.share(of: "b", samples: ["a": 1, "b": 9], limits: .init(maxClientShare: 0.3)) == 0.5)
        #expect(Weighting.samples.share(of: "a", samples: ["a": 7], limits: .init(maxClientShare: 0.3)) == 1)
        // Counts above the bound count as the bound; negative counts as nothing.
        #expect(Weighting.samples.share(of: "a", samples: ["a": 10, "b": 1 << 40], limits: .init(maxSamplesPerClient: 10)) == 0.5)
        #expect(Weighting.samples.share(of: "a", samples: ["a": -5, "b": 10]) == 0)
    }

    @Test("every scheduler's weights honour the maximum share")
    func everySchedulerCapsTheLiar() {
        for (name, scheduler) in Self.schedulers(limits: .init(maxClientShare: 0.4)) {
            var s = scheduler
            for client in ["h1", "h2", "h3"] { _ = s.handle(.joined(client, samples: 100), now: 0) }
            _ = s.handle(.joined("liar", samples: 1 << 50), now: 0)
            let weights = s.handle(update(1, "liar", base: 0), now: 1).accumulations.map(\.weight)
            #expect(weights.count == 1, "\(name)")
            #expect(weights.allSatisfy { $0 <= 0.4 + 1e-12 }, "\(name): \(weights)")
        }
    }

    @Test("a restored snapshot that kept a huge claim is bounded by the limits applied on restore")
    func restoredSnapshotsTakeTheLimits() throws {
        for (name, scheduler) in Self.schedulers(limits: .none) {
            var s = scheduler
            for client in ["h1", "h2", "h3"] { _ = s.handle(.joined(client, samples: 100), now: 0) }
            _ = s.handle(.joined("liar", samples: 1 << 62), now: 0)
            var restored = try SchedulerKind.restoreScheduler(from: try s.snapshot())
            restored.limitClaims(Self.limits)
            let weight = restored.handle(update(1, "h1", base: 0), now: 1).accumulations.first?.weight ?? 0
            #expect(weight >= 0.5 / 3 - 1e-12, "\(name): honest weight \(weight) after restore")
        }
    }
}
