import SextantPrivacy
import Testing

@testable import SextantClient
@testable import SextantLauncher
@testable import SextantRuntime
@testable import SextantServer
@testable import SextantSimulation
import SextantBenchmarks

@Suite struct PrivacyCalculatorTests {
    @Test func epsilonMatchesTheAccountantAndThePublishedValue() throws {
        let report = try PrivacyCalculator.epsilon(noise: 1.3, sampleRate: 0.0025, steps: 6000, delta: 1e-5)
        let direct = try RDPAccountant.epsilon(noiseMultiplier: 1.3, sampleRate: 0.0025, steps: 6000, delta: 1e-5)
        #expect(report.epsilon == direct.epsilon)
        #expect(report.order == 19)
        // docs/design.md 7: 0.7242234026 (10 digits).
        #expect(abs(report.epsilon - 0.7242234026) < 1e-9)
        #expect(
            report.lines == [
                "epsilon 0.7242234026 at delta 1e-05 (optimal order 19) for noise 1.3, sample rate 0.0025, 6000 steps"
            ])
    }

    @Test func theTargetGivesBackTheNoise() throws {
        let report = try PrivacyCalculator.noiseMultiplier(
            targetEpsilon: 1.4154988495, sampleRate: 0.001, steps: 30000, delta: 1e-7)
        let direct = try RDPAccountant.noiseMultiplier(
            forTargetEpsilon: 1.4154988495, delta: 1e-7, sampleRate: 0.001, steps: 30000)
        #expect(report.noiseMultiplier == direct)
        #expect(abs(report.noiseMultiplier - 1.0) < 1e-8)
        #expect(report.epsilon <= 1.4154988495)
        #expect(report.calibrated)
        #expect(report.lines.first?.hasPrefix("noise multiplier 1") == true)
    }

    @Test func theGroupEpsilonIsTheAccountants() throws {
        let report = try PrivacyCalculator.epsilon(noise: 1.0, sampleRate: 0.01, steps: 1000, delta: 1e-5, groupSize: 4)
        var accountant = RDPAccountant()
        try accountant.compose(noiseMultiplier: 1.0, sampleRate: 0.01, steps: 1000)
        let group = try accountant.groupGuarantee(groupSize: 4, delta: 1e-5)
        #expect(report.groupEpsilon == group.epsilon)
        #expect(report.groupDelta == group.delta)
        #expect(report.groupEpsilon! > report.epsilon)
        #expect(report.lines.count == 2)
    }

    @Test func badArgumentsAreRuntimeErrors() {
        #expect(throws: RuntimeError.self) {
            try PrivacyCalculator.epsilon(noise: 1, sampleRate: 2, steps: 1, delta: 1e-5)
        }
        #expect(throws: RuntimeError.self) {
            try PrivacyCalculator.noiseMultiplier(targetEpsilon: 1e-4, sampleRate: 0.1, steps: 10, delta: 1e-5)
        }
    }
}
