import Foundation
import SextantPrivacy
import Testing

@testable import SextantRuntime

/// `privacy.unit: subject` and its keys, refused with one line naming the problem
/// (docs/design.md 7, configs/README.md).
@Suite struct PrivacyUnitConfigurationTests {
    static let subjectFederation = """
        data: {dataset: subject-federation, directory: out/audit/data}
        privacy:
          mode: record-level
          unit: subject
          delta: 1.0e-4
          record_level: {clip_norm: 1.0, noise_multiplier: 2.0, sample_rate: 0.2}
        """

    @Test func subjectLevelIsReadWithItsRate() throws {
        let configuration = try decodeConfiguration(Self.subjectFederation)
        #expect(configuration.privacy.unit == .subject)
        let plan = try configuration.privacy.recordLevelPlan(federation: configuration, records: 3000)
        #expect(plan.unit == .subject)
        #expect(plan.sampleRate == 0.2)
        #expect(try plan.stepBudget() == nil)
        #expect(throws: RuntimeError.self) { try plan.check(subjects: 10_000) }
        try plan.check(subjects: 50)
        let description = try #require(configuration.privacy.guaranteeDescription(configuration))
        #expect(description.hasPrefix("subject-level, add/remove all of one subject's records in every silo"))
    }

    /// A target epsilon is calibrated at load: every silo samples subjects at the same rate.
    @Test func aSubjectTargetIsCalibratedWithoutTheRecordCount() throws {
        let configuration = try decodeConfiguration(
            Self.subjectFederation.replacingOccurrences(of: "noise_multiplier: 2.0", with: "target_epsilon: 4.0")
                + "\nstop: {max_versions: 10}\nscheduler: {kind: fedavg, local_steps: 10}")
        let plan = try configuration.privacy.recordLevelPlan(federation: configuration, records: nil)
        let reached = try RDPAccountant.epsilon(
            noiseMultiplier: plan.noiseMultiplier, sampleRate: 0.2, steps: 100, delta: 1e-4)
        #expect(abs(reached.epsilon - 4) < 1e-3)
    }

    @Test(arguments: [
        (
            "data: {dataset: fashion-mnist}\nprivacy: {mode: record-level, unit: subject, record_level: {noise_multiplier: 1, sample_rate: 0.1}}",
            "data.dataset 'fashion-mnist' has no subjects"
        ),
        (
            "data: {dataset: table}\nclients: {data: 'sites/{name}.csv'}\nprivacy: {mode: record-level, unit: subject, record_level: {noise_multiplier: 1, sample_rate: 0.1}}",
            "set data.subject to the column that names it"
        ),
        (
            "data: {dataset: subject-federation}\nprivacy: {mode: client-level, unit: subject, noise_multiplier: 1}\nscheduler: {weighting: equal}",
            "it applies to DP-SGD in the clients"
        ),
        (
            "data: {dataset: subject-federation}\nprivacy: {mode: record-level, unit: subject, record_level: {noise_multiplier: 1}}",
            "privacy.unit: subject needs 'privacy.record_level.sample_rate'"
        ),
        (
            "data: {dataset: subject-federation}\nprivacy: {mode: record-level, unit: subject, record_level: {noise_multiplier: 1, sample_rate: 0.1, batch_size: 8}}",
            "remove batch_size"
        ),
        (
            "privacy: {mode: record-level, record_level: {noise_multiplier: 1, sample_rate: 0.1}}",
            "it is the subject sampling rate of privacy.unit: subject"
        ),
        (
            "data: {dataset: subject-federation}\nprivacy: {mode: record-level, unit: person, record_level: {noise_multiplier: 1}}",
            "privacy.unit"
        ),
        (
            "data: {dataset: arrays, subject: person}\nclients: {data: 'sites/{name}.npz'}",
            "data.subject"
        ),
    ])
    func mistakesAreRefusedInOneLine(yaml: String, expected: String) {
        let message = refusal(of: yaml)
        #expect(message?.contains(expected) == true, "\(message ?? "accepted")")
        #expect(message?.contains("\n") != true)
    }

    @Test func aTableNamesItsSubjectColumn() throws {
        let configuration = try decodeConfiguration(
            """
            data: {dataset: table, label: diagnosis, subject: person}
            clients: {data: 'sites/{name}.csv'}
            privacy: {mode: record-level, unit: subject, record_level: {noise_multiplier: 1, sample_rate: 0.1}}
            """)
        #expect(configuration.data.site.subject == "person")
        #expect(
            configuration.privacy.ledgerPath(configuration, index: 2, name: "north").hasSuffix(".ledgers/north.json"))
    }
}
