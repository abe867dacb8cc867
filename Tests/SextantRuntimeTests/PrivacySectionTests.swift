import Foundation
import SextantBenchmarks
import SextantPrivacy
import Testing

@testable import SextantClient
@testable import SextantLauncher
@testable import SextantRuntime
@testable import SextantServer
@testable import SextantSimulation

@Suite struct PrivacySectionTests {
    func decode(_ yaml: String) throws -> FederationConfiguration { try decodeConfiguration(yaml) }
    func message(of yaml: String) -> String? { refusal(of: yaml) }

    @Test func privacyIsOffByDefault() throws {
        let configuration = try decode("{}")
        #expect(configuration.privacy.mode == .none)
        #expect(!configuration.privacy.isClientLevel && !configuration.privacy.isRecordLevel)
        #expect(configuration.privacy == PrivacySection())
    }

    @Test func clientLevelWithAFixedClipNormIsRead() throws {
        let configuration = try decode(
            """
            clients: {count: 10}
            scheduler: {weighting: equal, sampling_rate: 0.5}
            privacy:
              mode: client-level
              clip_norm: 0.5
              noise_multiplier: 1.1
              delta: 1e-3
              noise_placement: client
              client_noise_without_secure_aggregation: true
            """)
        let client = try configuration.privacy.makeClientLevelConfiguration(federation: configuration)
        #expect(client.noiseMultiplier == 1.1)
        #expect(client.clipping == .fixed(0.5))
        #expect(client.delta == 1e-3)
        #expect(client.placement == .client)
        // FedAvg samples clients from the secure generator under client-level DP, with the
        // fixed denominator q·N: amplification by sampling applies.
        #expect(client.sampleRate == 0.5)
        #expect(client.fixedDenominator == 5)
        #expect(client.expectedClientsPerEvent == 5)
        #expect(configuration.privacy.mode == .clientLevel)
        #expect(configuration.privacy.clipping == .fixed(0.5))
        #expect(configuration.privacy.noise == .noiseMultiplier(1.1))
    }

    @Test func theClipNormDefaultsToOne() throws {
        let configuration = try decode(
            "scheduler: {weighting: equal}\nprivacy: {mode: client-level, noise_multiplier: 1}")
        let client = try configuration.privacy.makeClientLevelConfiguration(federation: configuration)
        #expect(client.clipping == .fixed(1))
        #expect(client.delta == 1e-5)
        #expect(client.placement == .server)
    }

    @Test func adaptiveClippingIsRead() throws {
        let configuration = try decode(
            """
            clients: {count: 10}
            scheduler: {weighting: equal}
            privacy:
              mode: client-level
              noise_multiplier: 1.0
              adaptive_clipping: {initial_clip_norm: 0.1, target_quantile: 0.7, learning_rate: 0.3, indicator_noise: 2}
            """)
        let client = try configuration.privacy.makeClientLevelConfiguration(federation: configuration)
        #expect(
            client.clipping
                == .adaptive(.init(initialClipNorm: 0.1, targetQuantile: 0.7, learningRate: 0.3, indicatorNoise: 2)))
    }

    @Test func aTargetEpsilonIsCalibratedOverTheRunsEvents() throws {
        let configuration = try decode(
            """
            clients: {count: 10}
            scheduler: {weighting: equal}
            stop: {max_versions: 20}
            privacy: {mode: client-level, target_epsilon: 8}
            """)
        let z = try configuration.privacy.makeClientLevelConfiguration(federation: configuration).noiseMultiplier
        let reached = try RDPAccountant.epsilon(noiseMultiplier: z, sampleRate: 1, steps: 20, delta: 1e-5)
        #expect(reached.epsilon <= 8)
        #expect(reached.epsilon > 8 * (1 - 1e-9))
    }

    @Test func recordLevelIsPlannedPerClient() throws {
        let configuration = try decode(
            """
            training: {batch_size: 32}
            scheduler: {local_steps: 10}
            stop: {max_versions: 5}
            privacy: {mode: record-level, delta: 1e-4, record_level: {clip_norm: 2, target_epsilon: 3}}
            """)
        let plan = try configuration.privacy.recordLevelPlan(federation: configuration, records: 1000)
        #expect(plan.expectedBatchSize == 32)
        #expect(plan.sampleRate == 0.032)
        #expect(plan.plannedSteps == 50)
        #expect(plan.clipNorm == 2)
        let reached = try RDPAccountant.epsilon(
            noiseMultiplier: plan.noiseMultiplier, sampleRate: 0.032, steps: 50, delta: 1e-4)
        #expect(reached.epsilon <= 3 && reached.epsilon > 3 * (1 - 1e-9))
    }

    @Test func bothModesTogether() throws {
        let configuration = try decode(
            """
            scheduler: {weighting: equal}
            privacy:
              mode: both
              noise_multiplier: 1
              record_level: {noise_multiplier: 1.2, batch_size: 16, delta: 1e-6, planned_steps: 100}
            """)
        #expect(configuration.privacy.mode == .both)
        let plan = try configuration.privacy.recordLevelPlan(federation: configuration, records: 5000)
        #expect(plan.sampleRate == 16.0 / 5000)
        #expect(plan.delta == 1e-6)
        #expect(plan.noiseMultiplier == 1.2)
        #expect(plan.plannedSteps == 100)
        #expect(try configuration.privacy.makeClientLevelConfiguration(federation: configuration).noiseMultiplier == 1)
    }

    static let equal = "clients: {count: 10}\nscheduler: {weighting: equal}\n"

    @Test(arguments: [
        ("privacy: {mode: full}", "key 'privacy.mode' has value 'full'; use none, client-level, record-level or both"),
        ("privacy: {noise_multiplier: 1}", "key 'privacy.noise_multiplier' is set but privacy.mode is none"),
        ("privacy: {mode: client-level, noise_multipler: 1}", "unknown key 'privacy.noise_multipler'"),
        (equal + "privacy: {mode: client-level}", "needs 'privacy.noise_multiplier' or 'privacy.target_epsilon'"),
        (
            equal + "privacy: {mode: client-level, noise_multiplier: 1, target_epsilon: 2}",
            "'privacy.noise_multiplier' and 'privacy.target_epsilon' are both set"
        ),
        (
            equal + "privacy: {mode: client-level, noise_multiplier: 1, clip_norm: -1}",
            "key 'privacy.clip_norm' has value -1.0"
        ),
        (equal + "privacy: {mode: client-level, noise_multiplier: 0}", "key 'privacy.noise_multiplier' has value 0.0"),
        (equal + "privacy: {mode: client-level, target_epsilon: -2}", "key 'privacy.target_epsilon' has value -2.0"),
        (
            equal + "privacy: {mode: client-level, target_epsilon: 0.001}",
            "key 'privacy.target_epsilon' = 0.001 cannot be met"
        ),
        (
            equal + "privacy: {mode: client-level, noise_multiplier: 1, delta: 0.1}",
            "key 'privacy.delta' has value 0.1; it must lie in (0, 1/n) = (0, 0.1) for n = clients.count = 10"
        ),
        (equal + "privacy: {mode: client-level, noise_multiplier: 1, delta: 0}", "key 'privacy.delta' has value 0.0"),
        (
            "clients: {count: 10}\nprivacy: {mode: client-level, noise_multiplier: 1}",
            "key 'scheduler.weighting' has value 'samples'; client-level privacy needs weighting: equal"
        ),
        (
            equal + "privacy: {mode: client-level, noise_multiplier: 1, noise_placement: nowhere}",
            "key 'privacy.noise_placement' has value 'nowhere'; use server or client"
        ),
        (
            equal + "privacy: {mode: client-level, noise_multiplier: 1, noise_placement: client}",
            "key 'privacy.noise_placement' has value 'client'; without secure aggregation the server would see each update with only its own noise share (multiplier z/sqrt(n)) and the run's epsilon would not hold against it; use noise_placement: server, privacy.secure_aggregation with its noise_multiplier (distributed DP), or set privacy.client_noise_without_secure_aggregation: true"
        ),
        (
            equal + "privacy: {mode: client-level, noise_multiplier: 1, client_noise_without_secure_aggregation: true}",
            "key 'privacy.client_noise_without_secure_aggregation' has value true; it only applies to privacy.noise_placement: client"
        ),
        (
            equal
                + "privacy: {mode: client-level, noise_multiplier: 0.1, noise_placement: client, "
                + "client_noise_without_secure_aggregation: true, adaptive_clipping: {}}",
            "keys 'privacy.noise_placement' = client and 'privacy.adaptive_clipping' cannot be combined"
        ),
        (
            "privacy: {client_noise_without_secure_aggregation: true}",
            "key 'privacy.client_noise_without_secure_aggregation' is set but privacy.mode is none"
        ),
        (
            equal + "privacy: {mode: client-level, noise_multiplier: 1, clip_norm: 1, adaptive_clipping: {}}",
            "'privacy.clip_norm' and 'privacy.adaptive_clipping' are both set"
        ),
        (
            equal + "privacy: {mode: client-level, noise_multiplier: 1, adaptive_clipping: {}}",
            "key 'privacy.noise_multiplier' = 1.0: adaptive clipping splits the noise multiplier z between the updates and the count of unclipped updates (sensitivity 1), z^-2 = z_updates^-2 + σ_b^-2, which needs z < σ_b = 0.5 (σ_b = m/20 with m = 10 expected clients per event)"
        ),
        (
            equal + "privacy: {mode: client-level, target_epsilon: 1, adaptive_clipping: {}}",
            "key 'privacy.target_epsilon' = 1.0 (calibrated z = "
        ),
        (
            equal + "privacy: {mode: client-level, noise_multiplier: 1, adaptive_clipping: {indicator_noise: 0.8}}",
            "needs z < σ_b = 0.8 (σ_b = privacy.adaptive_clipping.indicator_noise); the count alone would spend the whole budget. Raise privacy.adaptive_clipping.indicator_noise above 1.0"
        ),
        // Issue 13's example: FedBuff K = 10 (σ_b = 0.5), z = 0.8. Accepted before the fix with
        // ε 47.06 reported for about 109.65 spent; refused now.
        (
            "clients: {count: 100}\nscheduler: {kind: fedbuff, buffer_size: 10, weighting: equal}\n"
                + "privacy: {mode: client-level, noise_multiplier: 0.8, delta: 1e-3, adaptive_clipping: {}}",
            "key 'privacy.noise_multiplier' = 0.8: adaptive clipping splits"
        ),
        (
            equal + "privacy: {mode: client-level, noise_multiplier: 1, adaptive_clipping: {initial_clip_norm: 0}}",
            "key 'privacy.adaptive_clipping.initial_clip_norm' has value 0.0"
        ),
        (
            equal + "privacy: {mode: client-level, noise_multiplier: 1, adaptive_clipping: {target_quantile: 1.5}}",
            "key 'privacy.adaptive_clipping.target_quantile' has value 1.5; it must lie in (0, 1)"
        ),
        (
            equal + "privacy: {mode: client-level, noise_multiplier: 1, adaptive_clipping: {learning_rate: -0.1}}",
            "key 'privacy.adaptive_clipping.learning_rate' has value -0.1"
        ),
        (
            equal + "privacy: {mode: client-level, noise_multiplier: 1, adaptive_clipping: {indicator_noise: -1}}",
            "key 'privacy.adaptive_clipping.indicator_noise' has value -1.0"
        ),
        ("privacy: {mode: record-level}", "privacy.mode record-level needs 'privacy.record_level'"),
        ("privacy: {mode: record-level, record_level: {}}", "needs 'privacy.record_level.noise_multiplier' or"),
        (
            "privacy: {mode: record-level, record_level: {noise_multiplier: 1, clip_norm: -3}}",
            "key 'privacy.record_level.clip_norm' has value -3.0"
        ),
        (
            "privacy: {mode: record-level, record_level: {noise_multiplier: 0}}",
            "key 'privacy.record_level.noise_multiplier' has value 0.0"
        ),
        (
            "privacy: {mode: record-level, record_level: {noise_multiplier: 1, batch_size: 0}}",
            "key 'privacy.record_level.batch_size' has value 0"
        ),
        (
            "privacy: {mode: record-level, record_level: {noise_multiplier: 1, delta: 2}}",
            "key 'privacy.record_level.delta' has value 2.0"
        ),
        (
            "privacy: {mode: record-level, noise_multiplier: 1, record_level: {noise_multiplier: 1}}",
            "key 'privacy.noise_multiplier' is a client-level setting but privacy.mode is record-level"
        ),
        (
            equal + "privacy: {mode: client-level, noise_multiplier: 1, record_level: {noise_multiplier: 1}}",
            "key 'privacy.record_level' is set but privacy.mode is client-level"
        ),
        (
            "privacy: {mode: both, record_level: {noise_multiplier: 1, seed: 3}}",
            "unknown key 'privacy.record_level.seed'"
        ),
    ])
    func refusalsSayWhyAndNameTheKey(yaml: String, expected: String) {
        let text = message(of: yaml)
        #expect(text?.contains(expected) == true, "got: \(text ?? "no error")")
    }

    @Test(arguments: [
        (
            1000, 1e-3, 32,
            "key 'privacy.delta' has value 0.001; record-level delta must lie in (0, 1/n) = (0, 0.001) for this client's n = 1000 records"
        ),
        (
            20, 1e-5, 32,
            "key 'privacy.record_level.batch_size' has value 32; the expected batch size must not exceed the client's 20 records"
        ),
    ])
    func recordLevelRefusalsNeedTheClientsRecords(records: Int, delta: Double, batch: Int, expected: String) throws {
        let configuration = try decode(
            "privacy: {mode: record-level, delta: \(delta), record_level: {noise_multiplier: 1, batch_size: \(batch)}}")
        do {
            _ = try configuration.privacy.recordLevelPlan(federation: configuration, records: records)
            Issue.record("accepted \(records) records")
        } catch let error as RuntimeError {
            #expect(error.message.contains(expected), "got: \(error.message)")
        }
    }

    /// configs/README.md's privacy table is the users' contract: it must list exactly the
    /// declared keys, with the declared defaults.
    @Test func theReadmeListsTheDeclaredKeysAndDefaults() throws {
        let readme = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../configs/README.md"), encoding: .utf8)
        var documented: [String: String] = [:]
        for line in readme.split(separator: "\n") where line.hasPrefix("| `privacy.") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            documented[String(cells[0].dropFirst("`privacy.".count).dropLast())] = cells[1]
        }
        var declared: [String: String] = [:]
        for key in PrivacySection.declared {
            switch key.name {
            case "adaptive_clipping":
                for child in PrivacySection.AdaptiveClippingSection.declared {
                    declared["adaptive_clipping." + child.name] = child.defaultText
                }
            case "record_level":
                for child in PrivacySection.RecordLevelSection.declared {
                    declared["record_level." + child.name] = child.defaultText
                }
            case "secure_aggregation":
                for child in SecureAggregationSection.declared {
                    declared["secure_aggregation." + child.name] = child.defaultText
                }
            default:
                declared[key.name] = key.defaultText
            }
        }
        #expect(documented == declared)
    }

    /// The shipped examples are part of the contract: they load, validate and mean what
    /// their comments say (z = 0.8 over 30 events at δ = 1e-3: ε 47.06, client-level).
    @Test func theShippedConfigurationsStillLoad() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../configs/privacy")
        let client = try FederationConfiguration.load(from: directory.appendingPathComponent("client-level.yaml"))
        let settings = try client.privacy.makeClientLevelConfiguration(federation: client)
        #expect(settings.noiseMultiplier == 0.8 && settings.clipping == .fixed(1) && settings.placement == .server)
        let epsilon = try RDPAccountant.epsilon(noiseMultiplier: 0.8, sampleRate: 1, steps: 30, delta: 1e-3).epsilon
        // 47.06221805 computed independently (the conversion over the default orders, in Python) to 10 digits.
        #expect(abs(epsilon - 47.06221805) < 1e-6)
        let record = try FederationConfiguration.load(from: directory.appendingPathComponent("record-level.yaml"))
        #expect(record.privacy.mode == .recordLevel)
        #expect(record.privacy.recordLevel?.noise == .noiseMultiplier(1))
        let secure = try FederationConfiguration.load(from: directory.appendingPathComponent("secure-aggregation.yaml"))
        #expect(secure.privacy.secureAggregation.enabled && secure.privacy.secureAggregation.clipNorm == 100)
        #expect(secure.privacy.secureAggregation.threshold(cohort: 4) == 3)
        let quantizer = try secure.privacy.secureAggregation.quantizer(members: 4, dimension: 1)
        #expect(abs(quantizer.sumErrorBound(members: 4) - 7.45e-7) < 1e-9)
    }
}
