import SextantScheduling
import Testing

@testable import SextantRuntime

@Suite struct SecureAggregationSectionTests {
    static let base = "clients: {count: 4}\nscheduler: {kind: fedavg, min_clients: 4}\n"

    @Test func isOffByDefault() throws {
        let configuration = try decodeConfiguration("{}")
        #expect(!configuration.privacy.secureAggregation.enabled)
    }

    @Test func itsKeysAreRead() throws {
        let configuration = try decodeConfiguration(
            Self.base
                + "privacy: {secure_aggregation: {enabled: true, clip_norm: 5, bits: 24, threshold: 3, stage_timeout_seconds: 9}}"
        )
        let section = configuration.privacy.secureAggregation
        #expect(section.enabled && section.clipNorm == 5 && section.bits == 24 && section.stageTimeout == 9)
        #expect(section.threshold == .count(3))
        #expect(section.threshold(cohort: 4) == 3)
    }

    @Test func distributedNoiseIsEachMembersShareAndStatesItsGuarantee() throws {
        let configuration = try decodeConfiguration(
            Self.base + "privacy: {delta: 1e-6, secure_aggregation: {enabled: true, clip_norm: 2, noise_multiplier: 1}}"
        )
        let section = configuration.privacy.secureAggregation
        #expect(section.noiseMultiplier == 1)
        #expect(section.memberNoise(members: 4) == 1)  // z C / sqrt(n): the sum of 4 carries z C = 2
        let quantizer = try section.quantizer(members: 4, dimension: 10)
        #expect(quantizer.configuration.noiseStandardDeviation == 1)
        let sampler = try #require(try section.sampler(for: quantizer))
        #expect(abs(sampler.variance.squareRoot() / quantizer.scale - 1) < 1e-6)
        let guarantee = try #require(configuration.privacy.guaranteeDescription(configuration))
        #expect(guarantee.contains("distributed discrete Gaussian") && guarantee.contains("delta=1e-06"))
    }

    @Test func aFractionalThresholdIsOfTheCohortAndNeverBelowTwo() {
        var section = SecureAggregationSection()
        section.threshold = .fraction(0.6)
        #expect(section.threshold(cohort: 4) == 3)
        #expect(section.threshold(cohort: 10) == 6)
        section.threshold = .fraction(0.1)
        #expect(section.threshold(cohort: 3) == 2)
    }

    @Test(arguments: [
        ("privacy: {secure_aggregation: {bits: 24}}", "key 'bits' is set but enabled is false"),
        ("privacy: {secure_aggregation: {enabled: true}}", "clip_norm is required"),
        (
            "privacy: {secure_aggregation: {enabled: true, clip_norm: 1, bits: 40}}",
            "privacy.secure_aggregation.bits' has value 40"
        ),
        (
            "privacy: {secure_aggregation: {enabled: true, clip_norm: 1, threshold: 1.5}}",
            "a fraction of the cohort in (0, 1) or a count"
        ),
        ("privacy: {secure_aggregation: {enabled: true, clip_norm: 1, threshold: 4}}", "must be below the cohort"),
        ("privacy: {secure_aggregation: {enabled: true, clip_norm: 1, graph: harary}}", "graph harary needs degree"),
        (
            "privacy: {secure_aggregation: {enabled: true, clip_norm: 1, graph: harary, degree: 2, threshold: 3}}",
            "threshold 3 exceeds the graph's degree 2"
        ),
        ("privacy: {secure_aggregation: {enabled: true, clip_norm: 1, degree: 2}}", "degree applies to graph harary"),
        (
            "privacy: {secure_aggregation: {enabled: true, clip_norm: 1, bits: 3}}",
            "a 3-bit ring cannot hold the sum of 4 members"
        ),
    ])
    func misuseIsRefusedInOneLine(yaml: String, expected: String) {
        let message = refusal(of: Self.base + yaml)
        #expect(message?.contains(expected) == true, "got: \(message ?? "nil")")
        #expect(message?.contains("\n") == false)
    }

    @Test(arguments: [
        ("scheduler: {kind: fedasync, min_clients: 4}", "a cohort of one would reveal it"),
        ("scheduler: {kind: fedbuff, min_clients: 4}", "fedbuff is not supported"),
        ("scheduler: {kind: compass, min_clients: 4, alpha: 1.5}", "use alpha <= 1"),
        ("scheduler: {kind: fedavg, min_clients: 2}", "a cohort needs at least 3 members"),
        (
            "scheduler: {kind: fedavg, min_clients: 4}\nprivacy: {mode: client-level, noise_multiplier: 1}",
            "client-level differential privacy"
        ),
        (
            "scheduler: {kind: fedavg, min_clients: 4}\nserver: {robust_aggregation: median}",
            "median looks at each update"
        ),
    ])
    func configurationsItCannotServeAreRefused(other: String, expected: String) {
        let privacy = "secure_aggregation: {enabled: true, clip_norm: 1}"
        let yaml: String
        if other.contains("privacy:") {
            yaml =
                "clients: {count: 4}\n"
                + other.replacingOccurrences(of: "}\n", with: "}\n").replacingOccurrences(
                    of: "noise_multiplier: 1}", with: "noise_multiplier: 1, \(privacy)}")
        } else {
            yaml = "clients: {count: 4}\n" + other + "\nprivacy: {\(privacy)}"
        }
        let message = refusal(of: yaml)
        #expect(message?.contains(expected) == true, "got: \(message ?? "nil")")
    }

    /// docs/design.md 13: Compass's arrival groups are cohorts; its scheduler then
    /// aggregates groups only.
    @Test func compassIsServedAndAggregatesGroupsOnly() throws {
        let yaml =
            "clients: {count: 4}\nscheduler: {kind: compass, min_clients: 4}\n"
            + "privacy: {secure_aggregation: {enabled: true, clip_norm: 1}}"
        #expect(refusal(of: yaml) == nil)
        let configuration = try decodeConfiguration(yaml)
        let scheduler = try configuration.scheduler.makeScheduler(seed: 1, secureAggregation: true)
        #expect((scheduler as? CompassScheduler)?.configuration.groupsOnly == true)
        let plain = try configuration.scheduler.makeScheduler(seed: 1)
        #expect((plain as? CompassScheduler)?.configuration.groupsOnly == nil)
    }
}
