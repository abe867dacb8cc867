import Foundation
import SextantScheduling
import Testing

@testable import SextantRuntime

/// `scheduler.max_samples_per_client` and `scheduler.max_client_share` bound what a
/// client's claimed sample count buys it (docs/design.md, "Trust no claim").
@Suite struct ClaimLimitsConfigurationTests {
    @Test("the defaults bound every claim and every share")
    func defaults() throws {
        let section = try decodeConfiguration("{}").scheduler
        #expect(section.maxSamplesPerClient == 1_000_000)
        #expect(section.maxClientShare == 0.5)
        #expect(section.claimLimits == ClaimLimits(maxSamplesPerClient: 1_000_000, maxClientShare: 0.5))
    }

    @Test("a claim is clamped to the operator's declaration, else to the configured bound")
    func claimsAreClamped() throws {
        let section = try decodeConfiguration("scheduler: {max_samples_per_client: 20000, max_client_share: 0.4}")
            .scheduler
        #expect(section.boundedSamples(claimed: UInt64.max, declared: nil) == 20000)
        #expect(section.boundedSamples(claimed: 1 << 62, declared: 5000) == 5000)
        #expect(section.boundedSamples(claimed: 300, declared: 5000) == 300)
        #expect(section.boundedSamples(claimed: 300, declared: nil) == 300)
        // A declaration above the configured bound does not lift it.
        #expect(section.boundedSamples(claimed: 90000, declared: 50000) == 20000)
    }

    @Test("bad bounds are refused naming the key")
    func badBounds() {
        for (yaml, key) in [
            ("scheduler: {max_client_share: 0}", "scheduler.max_client_share"),
            ("scheduler: {max_client_share: 1.5}", "scheduler.max_client_share"),
            ("scheduler: {max_samples_per_client: 0}", "scheduler.max_samples_per_client"),
        ] {
            let message = refusal(of: yaml) ?? ""
            #expect(message.contains(key), "\(yaml): \(message)")
        }
    }

    @Test("a restored scheduler takes the configured limits, not the ones it was saved with")
    func restoreAppliesTheLimits() throws {
        let section = try decodeConfiguration("scheduler: {kind: fedasync, min_clients: 1}").scheduler
        var old = FedAsyncScheduler(configuration: .init(minimumClients: 1))
        _ = old.handle(.joined("honest", samples: 100), now: 0)
        _ = old.handle(.joined("liar", samples: 1 << 62), now: 0)
        var restored = try section.restoreScheduler(from: [UInt8](try old.snapshot()))
        let actions = restored.handle(
            .updateArrived(UpdateInfo(id: 1, client: "honest", baseVersion: 0, steps: 1, samples: 100)), now: 1)
        let weight = actions.compactMap { if case .accumulate(_, _, let w) = $0 { w } else { nil } }.first
        #expect(weight == 0.5)
    }
}
