import Foundation
import SextantBase
import Testing

@testable import SextantAudit

/// The one-run bound (Steinke, Nasr & Jagielski 2023) on mechanisms whose guarantee is known
/// exactly, and its p-value against values computed here.
@Suite struct OneRunEpsilonTests {
    /// Randomized response on every canary: the attacker sees the true membership bit with
    /// probability e^ε/(1 + e^ε) and the other bit otherwise, which is exactly ε-DP per
    /// canary. Inclusion is an independent fair coin per canary; ties are broken by an
    /// independent uniform draw, so the ranking depends on nothing else.
    static func randomizedResponse(canaries: Int, epsilon: Double, seed: UInt64) -> (scores: [Double], isMember: [Bool])
    {
        var generator = SeededGenerator(seed: seed)
        let truthful = exp(epsilon) / (1 + exp(epsilon))
        var scores: [Double] = []
        var isMember: [Bool] = []
        for _ in 0..<canaries {
            let member = generator.nextUnit() < 0.5
            let reported = generator.nextUnit() < truthful ? member : !member
            scores.append((reported ? 1 : 0) + 0.5 * generator.nextUnit())
            isMember.append(member)
        }
        return (scores, isMember)
    }

    /// A deliberately weak guarantee (ε = 2, δ = 1e-5): the bound lies below the true ε and
    /// clearly above 0; without DP (the score is the membership) it is the largest of all.
    @Test func aWeakGuaranteeIsBoundedBelowItsEpsilonAndNoDPAboveIt() {
        let weak = Self.randomizedResponse(canaries: 2000, epsilon: 2, seed: 11)
        let bound = OneRunEpsilon(scores: weak.scores, isMember: weak.isMember, delta: 1e-5)
        let strong = Self.randomizedResponse(canaries: 2000, epsilon: 0.25, seed: 12)
        let strongBound = OneRunEpsilon(scores: strong.scores, isMember: strong.isMember, delta: 1e-5)
        let open = Self.randomizedResponse(canaries: 2000, epsilon: 50, seed: 13)
        let openBound = OneRunEpsilon(scores: open.scores, isMember: open.isMember, delta: 1e-5)
        print(
            "one-run bounds, 2000 canaries, delta 1e-5: eps 0.25 -> \(strongBound.lowerBound), eps 2 -> \(bound.lowerBound), no DP -> \(openBound.lowerBound)"
        )
        #expect(bound.lowerBound < 2)
        #expect(bound.lowerBound > 1)
        #expect(strongBound.lowerBound < 0.25)
        #expect(openBound.lowerBound > bound.lowerBound + 1)
        #expect(openBound.correct == openBound.guesses)
    }

    /// The p-value against the binomial tail summed here term by term, and the δ term from
    /// its definition, at r = 10 guesses, v = 9 right, m = 100, ε = 1, δ = 1e-3.
    @Test func thePValueIsTheBinomialTailPlusTheDeltaTerm() {
        let q = exp(1.0) / (1 + exp(1.0))
        func pmf(_ k: Int) -> Double {
            var binomial = 1.0
            for j in 0..<k { binomial = binomial * Double(10 - j) / Double(j + 1) }
            return binomial * pow(q, Double(k)) * pow(1 - q, Double(10 - k))
        }
        let tail = pmf(9) + pmf(10)
        var worst = 0.0
        for i in 1...9 {
            let band = (9 - i..<9).map(pmf).reduce(0, +)
            worst = max(worst, band / Double(i))
        }
        let expected = tail + 2 * 100 * 1e-3 * worst
        let computed = OneRunEpsilon.pValue(subjects: 100, guesses: 10, correct: 9, epsilon: 1, delta: 1e-3)
        #expect(abs(computed - expected) < 1e-12)
        // Half right proves nothing.
        #expect(OneRunEpsilon.lowerBound(subjects: 100, guesses: 50, correct: 25, delta: 1e-5, significance: 0.05) == 0)
    }
}
