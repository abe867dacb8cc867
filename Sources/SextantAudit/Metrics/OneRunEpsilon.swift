import Foundation

/// A lower bound on ε from one training run (Steinke, Nasr & Jagielski 2023, "Privacy
/// auditing with one (1) training run"): valid when every audited subject was included
/// independently with probability 1/2 before training. Sendable.
///
/// The auditor ranks the m evaluated subjects by the attack's score, guesses "member" for
/// the k highest and "non-member" for the k lowest and abstains on the rest: r = 2k
/// guesses, v of them right. If training is (ε, δ)-DP with respect to one subject, then
/// (their Theorem 5.2, for independent fair-coin inclusion)
///
///     P[W >= v] <= P[Binomial(r, q) >= v] + 2 m δ max_{1<=i<=v} P[v - i <= Binomial(r, q) < v] / i,
///     q = e^ε / (1 + e^ε),
///
/// so every ε whose right-hand side is at most the significance level is rejected, and the
/// bound is the largest such ε. The guess count k is taken from a fixed grid (1, 2, 5, 10,
/// 20 and 50% of m), each tested at significance (1 − confidence) / (grid size), so the
/// largest bound over the grid holds with the stated confidence (Bonferroni).
///
/// Unit: whatever one subject is (here all of a person's records, in every silo); δ: the
/// one given, which should be the accountant's δ for a like-with-like comparison.
package struct OneRunEpsilon: Sendable, Equatable, Codable {
    /// The bound (0 when the attack proves nothing).
    package var lowerBound: Double
    /// m, the subjects the guesses were made among.
    package var subjects: Int
    /// r, the guesses of the grid point that gave the bound.
    package var guesses: Int
    /// v, the correct ones among them.
    package var correct: Int
    package var delta: Double
    /// Joint coverage over the grid.
    package var confidence: Double

    /// Fractions of m guessed on each side.
    static let guessFractions = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5]

    /// The bound from `scores` (higher: "member") and the true memberships.
    package init(scores: [Double], isMember: [Bool], delta: Double, confidence: Double = 0.95) {
        precondition(scores.count == isMember.count, "one membership per score")
        let m = scores.count
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        let sides = Set(Self.guessFractions.map { max(1, Int((Double(m) * $0 / 2).rounded(.down))) }).filter {
            2 * $0 <= m
        }
        let significance = (1 - confidence) / Double(max(sides.count, 1))
        var best = (bound: 0.0, guesses: 0, correct: 0)
        for k in sides.sorted() {
            let top = order.prefix(k).filter { isMember[$0] }.count
            let bottom = order.suffix(k).filter { !isMember[$0] }.count
            let bound = Self.lowerBound(
                subjects: m, guesses: 2 * k, correct: top + bottom, delta: delta, significance: significance)
            if bound > best.bound || best.guesses == 0 { best = (bound, 2 * k, top + bottom) }
        }
        lowerBound = best.bound
        subjects = m
        guesses = best.guesses
        correct = best.correct
        self.delta = delta
        self.confidence = confidence
    }

    /// The largest ε rejected at `significance` after `correct` of `guesses` right among
    /// `subjects` (bisection on ε; the p-value grows with ε).
    static func lowerBound(subjects: Int, guesses: Int, correct: Int, delta: Double, significance: Double)
        -> Double
    {
        guard guesses > 0,
            pValue(subjects: subjects, guesses: guesses, correct: correct, epsilon: 0, delta: delta) <= significance
        else { return 0 }
        var low = 0.0
        var high = 1.0
        while high < 100,
            pValue(subjects: subjects, guesses: guesses, correct: correct, epsilon: high, delta: delta) <= significance
        {
            low = high
            high *= 2
        }
        for _ in 0..<60 {
            let middle = (low + high) / 2
            if pValue(subjects: subjects, guesses: guesses, correct: correct, epsilon: middle, delta: delta)
                <= significance
            {
                low = middle
            } else {
                high = middle
            }
        }
        return low
    }

    /// The bound on P[at least `correct` of `guesses` right] for an (ε, δ)-DP mechanism.
    static func pValue(subjects: Int, guesses r: Int, correct v: Int, epsilon: Double, delta: Double) -> Double {
        let q = 1 / (1 + exp(-epsilon))
        let pmf = binomialProbabilities(trials: r, probability: q)
        let tail = pmf[min(v, r)...].reduce(0, +)
        var band = 0.0  // P[v - i <= Binomial < v]
        var worst = 0.0
        if v >= 1 {
            for i in 1...v {
                band += pmf[v - i]
                worst = max(worst, band / Double(i))
            }
        }
        return min(1, tail + 2 * Double(subjects) * delta * worst)
    }

    /// P[Binomial(n, p) = k] for k in 0...n, from log-gamma.
    static func binomialProbabilities(trials n: Int, probability p: Double) -> [Double] {
        let logP: Double = log(p)
        let logQ: Double = log1p(-p)
        let total = Double(n)
        let logN: Double = lgamma(total + 1)
        var result: [Double] = []
        result.reserveCapacity(n + 1)
        for k in 0...n {
            let successes = Double(k)
            let failures: Double = total - successes
            let logBinomial: Double = logN - lgamma(successes + 1) - lgamma(failures + 1)
            result.append(exp(logBinomial + successes * logP + failures * logQ))
        }
        return result
    }
}
