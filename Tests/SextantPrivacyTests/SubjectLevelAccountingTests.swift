import Foundation
import Testing

@testable import SextantPrivacy

/// The subject-level ε across silos (``SubjectLevelAccounting``) on a case worked by hand,
/// with q = 1 so that every step is the plain Gaussian mechanism, whose RDP is
/// `α / (2 z²)` per step (Mironov 2017, Prop. 7), with no call to the accountant's series.
@Suite struct SubjectLevelAccountingTests {
    /// z = 2, q = 1; silos of 3, 5 and 7 steps. Subjects are held by silos {0, 1}, {2} and
    /// {1}. A subject's RDP is the sum over its silos: {0, 1} gives 8 steps, ρ = 8/(2·4) = 1
    /// per unit α; {2} gives 7/8; {1} 5/8. The worst subject is the one in silos 0 and 1.
    static let silos = [3, 5, 7].map { SubjectLevelAccounting.Silo(noiseMultiplier: 2, sampleRate: 1, steps: $0) }
    static let delta = 1e-5

    /// The improved conversion, `ε(α) = ρα + ln((α-1)/α) - (ln δ + ln α)/(α - 1)`, minimised
    /// over real α > 1 by golden-section search (ε(α) is unimodal here): the best any grid
    /// of orders can do.
    static func continuousEpsilon(rho: Double, delta: Double) -> Double {
        func f(_ a: Double) -> Double { rho * a + log((a - 1) / a) - (log(delta) + log(a)) / (a - 1) }
        var (low, high) = (1.000001, 500.0)
        let ratio = (5.0.squareRoot() - 1) / 2
        for _ in 0..<200 {
            let a = high - ratio * (high - low)
            let b = low + ratio * (high - low)
            if f(a) < f(b) { high = b } else { low = a }
        }
        return f((low + high) / 2)
    }

    /// The exact δ(ε) of the Gaussian mechanism with μ = Δ/σ (Balle & Wang 2018, Thm. 8):
    /// `Φ(-ε/μ + μ/2) - e^ε Φ(-ε/μ - μ/2)`; T compositions of multiplier z are one with
    /// μ = √T / z. Its ε at δ is the true privacy loss, which RDP may only overstate.
    static func exactGaussianEpsilon(mu: Double, delta: Double) -> Double {
        func phi(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }
        func deltaOf(_ e: Double) -> Double { phi(-e / mu + mu / 2) - exp(e) * phi(-e / mu - mu / 2) }
        var (low, high) = (0.0, 100.0)
        for _ in 0..<200 {
            let mid = (low + high) / 2
            if deltaOf(mid) > delta { low = mid } else { high = mid }
        }
        return high
    }

    /// Our grid of orders is coarser than the continuum (steps of 0.1 near the optimum,
    /// α* ≈ 4.4 for ρ = 1), so ours may exceed the continuous optimum by the curvature
    /// times (0.05)²: 1e-2 is ample; it may never be below it.
    @Test func worstSubjectIsComposedOverItsSilos() throws {
        let holdings = [[0, 1], [2], [1]]
        let ours = try SubjectLevelAccounting.epsilon(silos: Self.silos, holdings: holdings, delta: Self.delta)
        let hand = Self.continuousEpsilon(rho: 1, delta: Self.delta)
        #expect(ours.epsilon >= hand - 1e-9)
        #expect(ours.epsilon - hand < 1e-2, "ours \(ours.epsilon), by hand \(hand)")
        let exact = Self.exactGaussianEpsilon(mu: 8.0.squareRoot() / 2, delta: Self.delta)
        #expect(exact < ours.epsilon, "RDP must not report less than the exact Gaussian ε \(exact)")
        // The subjects held by one silo each are better off.
        let single = try SubjectLevelAccounting.epsilon(silos: Self.silos, holdings: [[2]], delta: Self.delta)
        #expect(abs(single.epsilon - Self.continuousEpsilon(rho: 7.0 / 8, delta: Self.delta)) < 1e-2)
        #expect(single.epsilon < ours.epsilon)
    }

    /// Without the holdings (the server's view) every subject is counted in every silo:
    /// 15 steps, ρ = 15/8.
    @Test func withoutHoldingsEverySiloCounts() throws {
        let ours = try SubjectLevelAccounting.epsilon(silos: Self.silos, holdings: nil, delta: Self.delta)
        let hand = Self.continuousEpsilon(rho: 15.0 / 8, delta: Self.delta)
        #expect(ours.epsilon >= hand - 1e-9 && ours.epsilon - hand < 1e-2, "ours \(ours.epsilon), by hand \(hand)")
        #expect(Self.exactGaussianEpsilon(mu: 15.0.squareRoot() / 2, delta: Self.delta) < ours.epsilon)
    }

    /// A silo counted twice in a subject's list is still charged once.
    @Test func aSiloIsChargedOncePerSubject() throws {
        let twice = try SubjectLevelAccounting.epsilon(silos: Self.silos, holdings: [[1, 1]], delta: Self.delta)
        let once = try SubjectLevelAccounting.epsilon(silos: Self.silos, holdings: [[1]], delta: Self.delta)
        #expect(twice == once)
        #expect(throws: PrivacyError.self) {
            try SubjectLevelAccounting.epsilon(silos: Self.silos, holdings: [[3]], delta: Self.delta)
        }
    }

    @Test func subjectsAreGroupedInOrderOfFirstAppearance() throws {
        let groups = try SubjectGroups(subjects: [7, 3, 7, 9, 3, 7])
        #expect(groups.ids == [7, 3, 9])
        #expect(groups.records == [[0, 2, 5], [1, 4], [3]])
        #expect(groups.largestGroup == 3)
        #expect(throws: PrivacyError.self) { try SubjectGroups(subjects: []) }
    }
}
