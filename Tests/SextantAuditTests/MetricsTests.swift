import Foundation
import Testing

@testable import SextantAudit

@Suite("ROC, AUC, thresholds and empirical epsilon")
struct MetricsTests {
    // Members 0.9, 0.8, 0.5, 0.5; non-members 0.5, 0.3, 0.8. Of the 12 pairs the members
    // win 3 + 2.5 + 1.5 + 1.5 = 8.5 (ties count one half): AUC = 8.5 / 12.
    let scores = [0.9, 0.8, 0.5, 0.5, 0.5, 0.3, 0.8]
    let isMember = [true, true, true, true, false, false, false]

    @Test func aucCountsTiesAsOneHalf() throws {
        let auc = try #require(AreaUnderCurve.compute(scores: scores, isMember: isMember))
        #expect(abs(auc - 8.5 / 12) < 1e-12)
        #expect(AreaUnderCurve.compute(scores: [1, 2], isMember: [true, true]) == nil)
        // Perfect separation, reversed, all tied.
        #expect(AreaUnderCurve.compute(scores: [3, 4, 1, 2], isMember: [true, true, false, false]) == 1)
        #expect(AreaUnderCurve.compute(scores: [1, 2, 3, 4], isMember: [true, true, false, false]) == 0)
        #expect(AreaUnderCurve.compute(scores: [1, 1, 1, 1], isMember: [true, false, true, false]) == 0.5)
    }

    @Test func aucEqualsTheAreaUnderTheROCCurve() throws {
        let roc = ROCCurve(scores: scores, isMember: isMember)
        let rates = roc.rates
        var area = 0.0
        for (a, b) in zip(rates, rates.dropFirst()) {
            area += (b.falsePositiveRate - a.falsePositiveRate) * (a.truePositiveRate + b.truePositiveRate) / 2
        }
        #expect(abs(area - 8.5 / 12) < 1e-12)
        #expect(rates.first! == (0, 0))
        #expect(rates.last! == (1, 1))
        // One point per distinct score, plus the origin.
        #expect(roc.points.count == Set(scores).count + 1)
    }

    @Test func truePositiveRateAtLowFalsePositiveRate() {
        // 20 non-members scoring 1...20; 10 members, three above almost every non-member.
        let nonMembers = (1...20).map(Double.init)
        let members = [20.5, 19.5, 18.5, 5, 4.5, 3.5, 2.5, 1.5, 0.5, 0.25]
        let roc = ROCCurve(
            scores: members + nonMembers, isMember: members.map { _ in true } + nonMembers.map { _ in false })
        // 10% FPR allows 2 false positives: threshold 18.5 catches 3 members (FP 19, 20).
        #expect(roc.truePositiveRate(atFalsePositiveRate: 0.1) == 0.3)
        // 5% allows 1: threshold 19.5 catches 2.
        #expect(roc.truePositiveRate(atFalsePositiveRate: 0.05) == 0.2)
        // 1% needs 100 non-members.
        #expect(roc.truePositiveRate(atFalsePositiveRate: 0.01) == nil)
        // Best: threshold 18.5, TPR 0.3 - FPR 0.1.
        #expect(abs(roc.bestAdvantage.advantage - 0.2) < 1e-12)
    }

    @Test func bootstrapIntervalIsSeededAndContainsTheAUC() throws {
        var generator = AuditRandom(seed: 3)
        let scores = (0..<60).map { i in Double(i % 2) * 0.8 + Double(generator.nextIndex(below: 1000)) / 1000 }
        let isMember = (0..<60).map { $0 % 2 == 1 }
        let auc = try #require(AreaUnderCurve.compute(scores: scores, isMember: isMember))
        let first = try #require(
            AreaUnderCurve.bootstrapInterval(scores: scores, isMember: isMember, resamples: 1000, seed: 7))
        let second = try #require(
            AreaUnderCurve.bootstrapInterval(scores: scores, isMember: isMember, resamples: 1000, seed: 7))
        let other = try #require(
            AreaUnderCurve.bootstrapInterval(scores: scores, isMember: isMember, resamples: 1000, seed: 8))
        #expect(first == second)
        #expect(first != other)
        #expect(first.contains(auc))
        #expect(first.upperBound - first.lowerBound > 0.01)
    }

    @Test func calibrationPicksASeparatingThreshold() throws {
        let threshold = try #require(
            ThresholdCalibration.calibrate(
                scores: [1, 2, 3, 10, 11, 12], isMember: [false, false, false, true, true, true]))
        #expect(threshold > 3 && threshold < 10)
        #expect(ThresholdCalibration.calibrate(scores: [1, 2], isMember: [true, true]) == nil)
        let outcome = ThresholdOutcome(
            threshold: threshold, scores: [1, 2, 3, 10, 11, 12], isMember: [false, false, true, true, true, false])
        #expect(outcome.truePositives == 2 && outcome.falsePositives == 1)
        #expect(outcome.trueNegatives == 2 && outcome.falseNegatives == 1)
        #expect(outcome.precision == 2.0 / 3)
        #expect(abs(outcome.balancedAccuracy - 2.0 / 3) < 1e-12)
    }

    @Test func empiricalEpsilonOfAPerfectAttack() {
        // 100 members all caught, 0 of 100 non-members, the four bounds jointly at 95% (each
        // at 98.75%): TPR_lo = 0.0125^(1/100), FPR_hi = 1 - 0.0125^(1/100), and the bound
        // is ln(TPR_lo / FPR_hi).
        let bound = EmpiricalEpsilon(
            threshold: 0, truePositives: 100, positives: 100, falsePositives: 0, negatives: 100, delta: 0)
        let tprLower = exp(log(0.0125) / 100)
        #expect(abs(bound.truePositiveRateLower - tprLower) < 1e-9)
        #expect(abs(bound.lowerBound - log(tprLower / (1 - tprLower))) < 1e-8)
        // Guessing proves nothing.
        let guess = EmpiricalEpsilon(
            threshold: 0, truePositives: 50, positives: 100, falsePositives: 50, negatives: 100, delta: 1e-5)
        #expect(guess.lowerBound == 0)
    }

    @Test func metricsOmitUnresolvableRates() throws {
        let metrics = try AuditMetrics(scores: scores, isMember: isMember, calibratedThreshold: 0.6)
        #expect(metrics.lowFalsePositiveRates.count == 3)
        #expect(metrics.lowFalsePositiveRates.allSatisfy { $0.truePositiveRate == nil && $0.note != nil })
        #expect(metrics.calibrated?.truePositives == 2)
        #expect(metrics.calibratedEpsilon != nil)
        #expect(throws: AuditError.self) {
            try AuditMetrics(scores: [1, 2], isMember: [true, true], calibratedThreshold: nil)
        }
    }
}
