import SextantBenchmarks
import SextantPrivacy
import Testing

@testable import SextantClient
@testable import SextantLauncher
@testable import SextantRuntime
@testable import SextantServer
@testable import SextantSimulation

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
                "epsilon 0.7242234026 at delta 1e-05 (optimal order 19) for noise 1.3, sample rate 0.0025, 6000 steps",
                "unit: record-level: add/remove one record (DP-SGD, Poisson sampling of records at the sample rate); "
                    + "delta 1e-05",
            ])
    }

    /// Every report names its unit and adjacency: `sextant privacy epsilon` used to print an
    /// epsilon without saying what it protects.
    @Test(arguments: PrivacyCalculator.Unit.allCases)
    func everyReportStatesItsUnitAndAdjacency(unit: PrivacyCalculator.Unit) throws {
        let report = try PrivacyCalculator.epsilon(noise: 1.1, sampleRate: 0.05, steps: 100, delta: 1e-5, unit: unit)
        let statement = try #require(report.lines.first { $0.hasPrefix("unit: ") })
        #expect(statement.contains("\(unit.rawValue)-level: add/remove"))
        #expect(statement.hasSuffix("delta 1e-05"))
    }

    /// A subject in 3 silos of 100 steps each is charged as 300 steps of one mechanism
    /// (identical silos compose by adding their RDP).
    @Test func silosComposeForASubject() throws {
        let report = try PrivacyCalculator.epsilon(
            noise: 1.1, sampleRate: 0.05, steps: 100, delta: 1e-5, unit: .subject, silos: 3)
        let direct = try RDPAccountant.epsilon(noiseMultiplier: 1.1, sampleRate: 0.05, steps: 300, delta: 1e-5)
        #expect(report.epsilon == direct.epsilon)
        #expect(report.lines[0].hasSuffix("100 steps in each of 3 silos"))
        let target = try PrivacyCalculator.noiseMultiplier(
            targetEpsilon: direct.epsilon, sampleRate: 0.05, steps: 100, delta: 1e-5, unit: .subject, silos: 3)
        #expect(abs(target.noiseMultiplier - 1.1) < 1e-6)
        #expect(throws: RuntimeError.self) {
            try PrivacyCalculator.epsilon(noise: 1.1, sampleRate: 0.05, steps: 100, delta: 1e-5, silos: 2)
        }
        #expect(throws: RuntimeError.self) {
            try PrivacyCalculator.epsilon(
                noise: 1.1, sampleRate: 0.05, steps: 100, delta: 1e-5, groupSize: 3, unit: .subject)
        }
    }

    /// Group privacy only where it holds: for 60 records at a record-level epsilon of about
    /// 1.5 the delta term 60 e^(59 eps) delta exceeds any delta, so no figure is printed.
    @Test func groupPrivacyIsPrintedOnlyWhereValid() throws {
        let report = try PrivacyCalculator.epsilon(
            noise: 1.0, sampleRate: 0.02, steps: 2000, delta: 1e-4, groupSize: 60)
        #expect(report.epsilon > 1)
        #expect(report.groupEpsilon == nil)
        #expect(report.lines.last?.hasPrefix("group privacy: no guarantee for a subject with 60 records") == true)
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
        #expect(report.lines.count == 3)
        #expect(report.lines[2].hasPrefix("group privacy: epsilon "))
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

/// The edges of `sextant privacy epsilon` (issue 15).
@Suite struct PrivacyCalculatorEdgeTests {
    /// Nothing released, nothing spent: ε = 0 exactly with a note, not the conversion's
    /// floor (0.0035 at δ = 1e-5). Group privacy of nothing is nothing too.
    @Test(arguments: [(0, 0.01), (100, 0.0)])
    func nothingReleasedSpendsNothing(steps: Int, sampleRate: Double) throws {
        let report = try PrivacyCalculator.epsilon(
            noise: 1.3, sampleRate: sampleRate, steps: steps, delta: 1e-5, groupSize: 3)
        #expect(report.epsilon == 0)
        #expect(report.order == nil)
        #expect(report.groupEpsilon == 0)
        #expect(report.lines[0] == "epsilon 0 at delta 1e-05 for noise 1.3, sample rate \(sampleRate), \(steps) steps")
        #expect(report.lines[1].hasPrefix("note: with \(steps == 0 ? "0 steps" : "sample rate 0") nothing is released"))
    }

    @Test(arguments: [
        (0.0, 0.01, 10, 1e-5, "--noise 0 adds no noise: there is no privacy (epsilon is infinite)"),
        (-1.0, 0.01, 10, 1e-5, "--noise must be a finite number > 0 (the noise std over the L2 sensitivity), got -1"),
        (Double.nan, 0.01, 10, 1e-5, "--noise must be a finite number > 0"),
        (1.0, 1.5, 10, 1e-5, "--sample-rate must lie in [0, 1]"),
        (1.0, -0.1, 10, 1e-5, "--sample-rate must lie in [0, 1]"),
        (1.0, 0.01, -3, 1e-5, "--steps must be 0 or more, got -3"),
        (1.0, 0.01, 10, 0.0, "--delta must lie in (0, 1)"),
    ])
    func badValuesAreRefusedInOneLine(noise: Double, sampleRate: Double, steps: Int, delta: Double, expected: String) {
        do {
            _ = try PrivacyCalculator.epsilon(noise: noise, sampleRate: sampleRate, steps: steps, delta: delta)
            Issue.record("accepted")
        } catch let error as RuntimeError {
            #expect(error.message.hasPrefix(expected), "got: \(error.message)")
            #expect(!error.message.contains("\n"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func aTargetWithNothingReleasedIsRefused() {
        #expect(throws: RuntimeError.self) {
            try PrivacyCalculator.noiseMultiplier(targetEpsilon: 1, sampleRate: 0.01, steps: 0, delta: 1e-5)
        }
        #expect(throws: RuntimeError.self) {
            try PrivacyCalculator.noiseMultiplier(targetEpsilon: -1, sampleRate: 0.01, steps: 10, delta: 1e-5)
        }
    }
}
