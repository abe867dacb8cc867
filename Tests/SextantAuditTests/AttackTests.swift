import Foundation
import SextantML
import Testing

@testable import SextantAudit

@Suite("Attacks on constructed loss trajectories")
struct AttackTests {
    /// 60 subjects, even ids members; 12 checkpoints. Every loss starts near 2.3; with
    /// `signal`, members' losses fall to 0.5 and non-members' to 1.5, otherwise both
    /// fall alike. Seeded noise of 0.05 per point.
    func trajectories(signal: Bool, seed: UInt64) -> (LossTrajectories, [Int32: Bool]) {
        var generator = SeededGenerator(seed: seed)
        let subjects = (0..<60).map(Int32.init)
        let losses = subjects.map { subject -> [Double] in
            let target = signal && subject % 2 == 0 ? 0.5 : (signal ? 1.5 : 1.0 + generator.nextUnit())
            return (0..<12).map { c in
                2.3 + (target - 2.3) * Double(c) / 11 + generator.nextNormal(standardDeviation: 0.05)
            }
        }
        let membership = Dictionary(uniqueKeysWithValues: subjects.map { ($0, $0 % 2 == 0) })
        return (LossTrajectories(versions: Array(0..<12), subjects: subjects, losses: losses), membership)
    }

    var audit: SubjectAudit {
        var configuration = SubjectAudit.Configuration()
        configuration.knownSubjects = 10
        configuration.metrics.bootstrapResamples = 200
        return SubjectAudit(configuration: configuration)
    }

    let run = AuditReport.RunInfo(
        id: "test", fingerprint: "logreg:2:2:6", config: "", storedCheckpoints: 12, accountantEpsilon: nil)

    @Test func membersWithLowerLossesAreFound() throws {
        let (trajectories, membership) = trajectories(signal: true, seed: 1)
        let report = try audit.analyze(trajectories, membership: membership, run: run)
        #expect(report.attacks.map(\.attack) == [.finalModel, .trajectory])
        #expect(report.knownSubjectCount == 10)
        #expect(report.evaluatedMembers == 25 && report.evaluatedNonMembers == 25)
        for attack in report.attacks {
            #expect(attack.metrics.auc > 0.99, "\(attack.attack): AUC \(attack.metrics.auc)")
            #expect(attack.scores.count == 50)
            #expect((attack.metrics.calibrated?.balancedAccuracy ?? 0) > 0.95)
            #expect((attack.metrics.calibratedEpsilon?.lowerBound ?? 0) > 1)
        }
        #expect(report.verdict.contains("leaks measurable information"))
        #expect(report.attacks(withAUCAbove: 0.9).count == 2)
    }

    @Test func nullCaseIsNearChance() throws {
        let (trajectories, membership) = trajectories(signal: false, seed: 2)
        let report = try audit.analyze(trajectories, membership: membership, run: run)
        for attack in report.attacks {
            // 25 + 25 subjects: the AUC's standard error under the null is ~0.08.
            #expect(abs(attack.metrics.auc - 0.5) < 0.25, "\(attack.attack): AUC \(attack.metrics.auc)")
            #expect(attack.metrics.aucInterval.contains(0.5))
        }
        #expect(report.verdict.contains("no leakage is detectable"))
    }

    @Test func trajectoryStatisticsAreOrientedTowardsMembers() {
        let falling = [3.0, 2.0, 2.5, 1.0]
        #expect(TrajectoryStatistic.fractionDecreasing.score(falling) == 2.0 / 3)
        #expect(TrajectoryStatistic.meanLoss.score(falling) == -2.125)
        #expect(TrajectoryStatistic.lastMinusFirst.score(falling) == 2)
        #expect(TrajectoryStatistic.minimumLoss.score(falling) == -1)
        let combined = TrajectoryStatistic.combined.scores([falling, [3, 3, 3, 3], [3, 2.9, 2.8, 2.7]])
        #expect(combined[0] > combined[2] && combined[2] > combined[1])
    }

    @Test func knownSubjectsAreStratifiedAndLeaveBothClasses() {
        let subjects = (0..<10).map(Int32.init)
        let isMember = subjects.map { $0 < 3 }
        let known = SubjectAudit.chooseKnownSubjects(subjects: subjects, isMember: isMember, count: 6, seed: 4)
        #expect(known.filter { $0 < 3 }.count == 2)  // capped: one member must remain
        #expect(known.filter { $0 >= 3 }.count == 3)
        #expect(known == SubjectAudit.chooseKnownSubjects(subjects: subjects, isMember: isMember, count: 6, seed: 4))
        #expect(SubjectAudit.chooseKnownSubjects(subjects: subjects, isMember: isMember, count: 0, seed: 4).isEmpty)
    }

    @Test func fingerprintsParseAndAreChecked() throws {
        let image = try ModelFingerprint(parsing: "mlp:1x28x28:10:199210")
        #expect(image.architecture == .mlp)
        #expect(image.inputShape == FeatureShape(channels: 1, height: 28, width: 28))
        #expect(image.classCount == 10)
        let vector = try ModelFingerprint(
            parsing: ModelArchitecture.logreg.fingerprint(input: FeatureShape(channels: 20), classCount: 4))
        #expect(vector.parameterCount == 84)
        #expect(vector.makeNetwork().parameterCount == 84)
        for bad in ["mlp:1x28x28:10:5", "rnn:20:4:84", "logreg:20:4", "logreg:2x2:4:84", "logreg:20:one:84"] {
            #expect(throws: AuditError.self) { try ModelFingerprint(parsing: bad) }
        }
    }
}
