import Foundation
import Testing

@testable import SextantPrivacy

/// The published reference values of docs/design.md 7 (improved conversion, the default orders).
/// They must match to 8 significant digits: a relative error of 5e-9 on ε.
@Suite struct RDPAccountantReferenceTests {
    struct Case: Sendable, CustomStringConvertible {
        var sampleRate: Double
        var noiseMultiplier: Double
        var steps: Int
        var delta: Double
        var epsilon: Double
        var order: Double?
        var description: String { "q=\(sampleRate) z=\(noiseMultiplier) T=\(steps) δ=\(delta)" }
    }

    static let cases: [Case] = [
        Case(sampleRate: 0.0025, noiseMultiplier: 1.3, steps: 6000, delta: 1e-5, epsilon: 0.7242234026, order: 19),
        Case(sampleRate: 0.001, noiseMultiplier: 1.0, steps: 30000, delta: 1e-7, epsilon: 1.4154988495, order: 13),
        Case(sampleRate: 0.04, noiseMultiplier: 1.5, steps: 2250, delta: 1e-5, epsilon: 7.3291111714, order: nil),
    ]

    @Test(arguments: cases)
    func matchesPublishedEpsilon(_ reference: Case) throws {
        var accountant = RDPAccountant()
        try accountant.compose(
            noiseMultiplier: reference.noiseMultiplier, sampleRate: reference.sampleRate, steps: reference.steps)
        let guarantee = try accountant.epsilon(delta: reference.delta)
        print("reference \(reference): epsilon = \(guarantee.epsilon) at order \(guarantee.order)")
        #expect(abs(guarantee.epsilon - reference.epsilon) / reference.epsilon < 5e-9, "\(guarantee)")
        if let order = reference.order { #expect(guarantee.order == order) }
    }
}

/// The RDP curve itself, checked against independent evaluations.
@Suite struct SampledGaussianRDPTests {
    /// `A_α` by the binomial sum in plain Double with exact integer binomials: independent of
    /// the log-space code, valid while no term overflows (small α, σ not tiny).
    static func naiveIntegerRDP(q: Double, sigma: Double, alpha: Int) -> Double {
        var total = 0.0
        var binomial = 1.0
        for k in 0...alpha {
            if k > 0 { binomial = binomial * Double(alpha - k + 1) / Double(k) }
            let kk = Double(k)
            total += binomial * pow(1 - q, Double(alpha - k)) * pow(q, kk) * exp((kk * kk - kk) / (2 * sigma * sigma))
        }
        return log(total) / Double(alpha - 1)
    }

    /// `A_α = ∫ μ0(x) ((1-q) + q μ1(x)/μ0(x))^α dx` by the trapezoid rule on a fine grid,
    /// for any real α: an evaluation that shares nothing with either series. The integrand
    /// is smooth with Gaussian tails, so the trapezoid rule converges faster than any power
    /// of the step and a step of σ/400 over ±(40σ + 2α) is accurate far beyond 1e-10.
    static func integratedRDP(q: Double, sigma: Double, alpha: Double) -> Double {
        let half = 40 * sigma + 2 * alpha
        let step = sigma / 400
        let count = Int(2 * half / step)
        var logTerms = [Double]()
        logTerms.reserveCapacity(count + 1)
        for index in 0...count {
            let x = -half + Double(index) * step
            let logMu0 = -x * x / (2 * sigma * sigma) - 0.5 * log(2 * Double.pi * sigma * sigma)
            let logRatio = (2 * x - 1) / (2 * sigma * sigma)  // log μ1/μ0
            // log((1-q) + q e^r) computed stably
            let a = log1p(-q), b = log(q) + logRatio
            let logBase = max(a, b) + log1p(exp(min(a, b) - max(a, b)))
            let weight = (index == 0 || index == count) ? log(0.5) : 0
            logTerms.append(logMu0 + alpha * logBase + weight)
        }
        let top = logTerms.max()!
        let logA = top + log(logTerms.reduce(0.0) { $0 + exp($1 - top) }) + log(step)
        return logA / (alpha - 1)
    }

    static let settings: [(q: Double, sigma: Double)] = [
        (0.0025, 1.3), (0.001, 1.0), (0.04, 1.5), (0.1, 2.0), (0.5, 0.8), (0.01, 0.7),
    ]

    /// Integer orders against the naive binomial sum: relative 1e-12 plus an absolute
    /// 1e-15 (the log-space sum and the plain sum differ only by rounding over at most 11
    /// terms; when q is small `A_α = 1 + tiny`, and both evaluations of `log A_α` carry the
    /// ~1e-16 absolute rounding of a sum near 1, which is large relative to an RDP of 1e-6).
    @Test func integerOrdersMatchTheNaiveBinomialSum() {
        for (q, sigma) in Self.settings {
            for alpha in 2...10 {
                let expected = Self.naiveIntegerRDP(q: q, sigma: sigma, alpha: alpha)
                let actual = SampledGaussianRDP.rdp(noiseMultiplier: sigma, sampleRate: q, order: Double(alpha))
                #expect(
                    abs(actual - expected) <= 1e-12 * expected + 1e-15,
                    "q=\(q) σ=\(sigma) α=\(alpha): \(actual) vs \(expected)")
            }
        }
    }

    /// Fractional and integer orders against numerical integration of the definition:
    /// relative 1e-8 plus an absolute 1e-13 (the quadrature sums ~10⁵ terms near 1, so its
    /// own absolute rounding in `log A_α` is ~1e-14, and the series stop at a 1e-13
    /// absolute truncation).
    @Test func ordersMatchNumericalIntegration() {
        for (q, sigma) in Self.settings {
            for alpha in [1.1, 1.5, 2.0, 2.7, 3.9, 5.0, 7.3, 10.9] {
                let expected = Self.integratedRDP(q: q, sigma: sigma, alpha: alpha)
                let actual = SampledGaussianRDP.rdp(noiseMultiplier: sigma, sampleRate: q, order: alpha)
                #expect(
                    abs(actual - expected) <= 1e-8 * expected + 1e-13,
                    "q=\(q) σ=\(sigma) α=\(alpha): \(actual) vs \(expected)")
            }
        }
    }

    /// The fractional series and the integer sum agree where they meet: RDP is continuous
    /// and non-decreasing in α, so α = 5 ± 1e-9 (fractional path) must bracket α = 5
    /// (binomial path) to 1e-7 relative; and 4.9 <= 5.0 <= 5.1 with the integer value within
    /// a quarter of the spread of the midpoint of its neighbours (slopes on both sides within
    /// a factor 3 of each other, as for any smooth curve on a 0.1 grid; a sign error in the
    /// series would break this).
    @Test func fractionalOrdersAreContinuousAcrossIntegers() {
        for (q, sigma) in Self.settings {
            for alpha in 2...10 {
                let a = Double(alpha)
                let below = SampledGaussianRDP.rdp(noiseMultiplier: sigma, sampleRate: q, order: a - 1e-9)
                let at = SampledGaussianRDP.rdp(noiseMultiplier: sigma, sampleRate: q, order: a)
                let above = SampledGaussianRDP.rdp(noiseMultiplier: sigma, sampleRate: q, order: a + 1e-9)
                #expect(abs(below - at) <= 1e-7 * at && abs(above - at) <= 1e-7 * at, "q=\(q) σ=\(sigma) α=\(alpha)")
                let left = SampledGaussianRDP.rdp(noiseMultiplier: sigma, sampleRate: q, order: a - 0.1)
                let right = SampledGaussianRDP.rdp(noiseMultiplier: sigma, sampleRate: q, order: a + 0.1)
                #expect(left <= at && at <= right, "not monotone at α=\(alpha): \(left) \(at) \(right)")
                #expect(
                    abs(at - (left + right) / 2) <= 0.25 * (right - left), "kink at α=\(alpha): \(left) \(at) \(right)")
            }
        }
    }

    @Test func specialCases() {
        #expect(SampledGaussianRDP.rdp(noiseMultiplier: 1.3, sampleRate: 0, order: 7.5) == 0)
        for alpha in [1.5, 2.0, 32.0, 1024.0] {
            #expect(SampledGaussianRDP.rdp(noiseMultiplier: 2, sampleRate: 1, order: alpha) == alpha / 8)
        }
        #expect(SampledGaussianRDP.rdp(noiseMultiplier: 0, sampleRate: 0.1, order: 3) == .infinity)
    }

    /// The asymptotic log-erfc must join glibc's erfc smoothly at the switch (x = 20) and
    /// stay finite where erfc underflows.
    @Test func logErfcIsAccurateAndContinuous() {
        let direct = log(erfc(19.999999))
        let series = LogMath.logErfc(20.0)
        #expect(abs(direct - series) < 1e-4)  // the true change over 1e-6 is 4e-5
        #expect(abs(LogMath.logErfc(19.5) - log(erfc(19.5))) < 1e-15 * 400)
        let far = LogMath.logErfc(40)
        #expect(
            far.isFinite
                && abs(far - (-1600 - log(40) - 0.5 * log(Double.pi) + log1p(-1 / 3200.0 + 3 / (3200.0 * 3200)))) < 1e-9
        )
        #expect(abs(LogMath.logErfc(-3) - log(erfc(-3.0))) < 1e-15)
    }
}

@Suite struct RDPAccountantCompositionTests {
    @Test func composingMechanismsAddsTheirCurves() throws {
        var accountant = RDPAccountant()
        try accountant.compose(noiseMultiplier: 1.1, sampleRate: 0.01, steps: 100)
        try accountant.compose(noiseMultiplier: 2.0, sampleRate: 1, steps: 5)
        let first = try RDPAccountant.curve(noiseMultiplier: 1.1, sampleRate: 0.01, steps: 100)
        let second = try RDPAccountant.curve(noiseMultiplier: 2.0, sampleRate: 1, steps: 5)
        for index in accountant.orders.indices {
            #expect(accountant.rdp[index] == first[index] + second[index])
        }
        #expect(RDPAccountant.defaultOrders.count == 99 + 53 + 4)
        #expect(RDPAccountant.defaultOrders.contains(5.0) && RDPAccountant.defaultOrders.contains(1024))
    }

    @Test func noNoiseMeansInfiniteEpsilon() throws {
        let guarantee = try RDPAccountant.epsilon(noiseMultiplier: 0, sampleRate: 0.1, steps: 1, delta: 1e-5)
        #expect(guarantee.epsilon == .infinity)
    }

    @Test func invalidArgumentsAreRefused() {
        var accountant = RDPAccountant()
        #expect(throws: PrivacyError.self) { try accountant.compose(noiseMultiplier: 1, sampleRate: 1.5, steps: 1) }
        #expect(throws: PrivacyError.self) { try accountant.compose(noiseMultiplier: -1, sampleRate: 0.5, steps: 1) }
        #expect(throws: PrivacyError.self) { try accountant.epsilon(delta: 0) }
    }

    /// The inverse meets its target: ε(z*) is within 1e-6 relative of the target (and not
    /// above it), and z* for the published ε recovers the published z.
    @Test(arguments: [
        (0.7242234026, 1e-5, 0.0025, 6000), (1.4154988495, 1e-7, 0.001, 30000), (7.3291111714, 1e-5, 0.04, 2250),
        (1.0, 1e-5, 0.01, 1000), (3.0, 1e-6, 1.0, 50), (0.2, 1e-5, 0.001, 100),
    ])
    func inverseRoundTrips(target: Double, delta: Double, sampleRate: Double, steps: Int) throws {
        let z = try RDPAccountant.noiseMultiplier(
            forTargetEpsilon: target, delta: delta, sampleRate: sampleRate, steps: steps)
        let reached = try RDPAccountant.epsilon(noiseMultiplier: z, sampleRate: sampleRate, steps: steps, delta: delta)
            .epsilon
        #expect(reached <= target)
        #expect(abs(reached - target) / target < 1e-6, "z=\(z) gives ε=\(reached) for target \(target)")
        if target == 0.7242234026 { #expect(abs(z - 1.3) < 1e-6) }
        if target == 7.3291111714 { #expect(abs(z - 1.5) < 1e-6) }
    }

    @Test func unreachableTargetIsAnError() {
        #expect {
            try RDPAccountant.noiseMultiplier(forTargetEpsilon: 1e-4, delta: 1e-5, sampleRate: 0.01, steps: 10)
        } throws: { ($0 as? PrivacyError)?.code == .unreachableTarget }
    }
}

@Suite struct GroupPrivacyTests {
    @Test func lemmaScalesEpsilonAndDelta() {
        let group = GroupPrivacy.convert(epsilon: 0.5, delta: 1e-6, groupSize: 3)
        #expect(group.epsilon == 1.5)
        #expect(abs(group.delta - 3 * exp(1.0) * 1e-6) < 1e-20)
        let single = GroupPrivacy.convert(epsilon: 0.5, delta: 1e-6, groupSize: 1)
        #expect(single.epsilon == 0.5 && single.delta == 1e-6)
    }

    /// The subject-level guarantee meets the target δ, is derived consistently from its
    /// record-level guarantee, and cannot beat k·ε(δ) (its record δ is smaller than δ).
    @Test func subjectLevelGuaranteeIsConsistent() throws {
        var accountant = RDPAccountant()
        try accountant.compose(noiseMultiplier: 1.3, sampleRate: 0.0025, steps: 6000)
        let single = try accountant.epsilon(delta: 1e-5)
        let one = try accountant.groupGuarantee(groupSize: 1, delta: 1e-5)
        #expect(one.epsilon == single.epsilon)
        for k in [2, 5, 10] {
            let group = try accountant.groupGuarantee(groupSize: k, delta: 1e-5)
            #expect(group.delta <= 1e-5)
            #expect(group.epsilon >= Double(k) * single.epsilon)
            let rederived = GroupPrivacy.convert(epsilon: group.record.epsilon, delta: group.record.delta, groupSize: k)
            #expect(rederived.epsilon == group.epsilon && rederived.delta == group.delta)
        }
    }
}

/// Large noise multipliers: fast, and accurate against closed forms (issue 15).
@Suite struct LargeNoiseRDPTests {
    /// Orders 2 and 3 have short closed forms with no cancellation, written here from the
    /// binomial expansion: `A_2 - 1 = q² (e^{1/σ²} - 1)` and
    /// `A_3 - 1 = 3q²(1-q)(e^{1/σ²} - 1) + q³(e^{3/σ²} - 1)`. Relative 1e-12: both sides
    /// take a few roundings of the same positive terms (before this change the sum was formed
    /// as `1 + tiny` and lost every digit below 1e-16, e.g. all of them at σ = 1e6).
    @Test(arguments: [300.0, 1e4, 1e6])
    func integerOrdersMatchClosedForms(sigma: Double) {
        for q in [0.01, 0.3] {
            let order2 = log1p(q * q * expm1(1 / (sigma * sigma)))
            let order3 =
                log1p(3 * q * q * (1 - q) * expm1(1 / (sigma * sigma)) + q * q * q * expm1(3 / (sigma * sigma))) / 2
            let actual2 = SampledGaussianRDP.rdp(noiseMultiplier: sigma, sampleRate: q, order: 2)
            let actual3 = SampledGaussianRDP.rdp(noiseMultiplier: sigma, sampleRate: q, order: 3)
            #expect(abs(actual2 / order2 - 1) < 1e-12, "σ=\(sigma) q=\(q): \(actual2) vs \(order2)")
            #expect(abs(actual3 / order3 - 1) < 1e-12, "σ=\(sigma) q=\(q): \(actual3) vs \(order3)")
        }
    }

    /// Fractional orders at σ = 30 and 100 against numerical integration of the definition
    /// (``SampledGaussianRDPTests/integratedRDP(q:sigma:alpha:)``, which shares nothing with
    /// the series). There `log A_α` is 1e-8 to 1e-5 and the quadrature's own rounding (about
    /// 1e-14 absolute in `log A_α`) is at most 1e-6 of it: relative 1e-5 plus 1e-13.
    @Test func fractionalOrdersAtLargeNoiseMatchIntegration() {
        for (q, sigma) in [(0.1, 30.0), (0.3, 100.0), (0.01, 30.0)] {
            for alpha in [1.5, 2.7, 7.3, 10.9] {
                let expected = SampledGaussianRDPTests.integratedRDP(q: q, sigma: sigma, alpha: alpha)
                let actual = SampledGaussianRDP.rdp(noiseMultiplier: sigma, sampleRate: q, order: alpha)
                #expect(
                    abs(actual - expected) <= 1e-5 * expected + 1e-13,
                    "q=\(q) σ=\(sigma) α=\(alpha): \(actual) vs \(expected)")
            }
        }
    }

    /// Where the fractional series cannot resolve `log A_α`, the order is charged the next
    /// integer order's exact value: never less than the truth, since RDP grows with α.
    @Test func unresolvableFractionalOrdersAreBoundedByTheNextInteger() {
        let fractional = SampledGaussianRDP.rdp(noiseMultiplier: 1e5, sampleRate: 0.01, order: 2.5)
        let next = SampledGaussianRDP.rdp(noiseMultiplier: 1e5, sampleRate: 0.01, order: 3)
        let below = SampledGaussianRDP.rdp(noiseMultiplier: 1e5, sampleRate: 0.01, order: 2)
        #expect(fractional == next)
        #expect(below < fractional && fractional > 0)
    }

    /// Every default order at σ = 300 and 1e4 (q = 0.01) in under 2 s in a debug build, and
    /// a calibration that climbs to large σ (a target just above the conversion's floor)
    /// in under 10 s (about 80 evaluations): the old
    /// stopping rule ran about σ² ln(1/q) terms per fractional order (4 s at σ = 300 in
    /// release, minutes at 1e4). The ε is checked against the conversion written out here
    /// over the same curve, and against the q = 1 bound `α T/(2σ²)` it must not exceed.
    @Test(arguments: [300.0, 1e4])
    func largeNoiseIsFast(sigma: Double) throws {
        let clock = ContinuousClock()
        var guarantee: RDPAccountant.Guarantee?
        let elapsed = try clock.measure {
            guarantee = try RDPAccountant.epsilon(noiseMultiplier: sigma, sampleRate: 0.01, steps: 1000, delta: 1e-5)
        }
        #expect(elapsed < .seconds(2), "\(elapsed)")
        let epsilon = try #require(guarantee).epsilon
        let fullGaussian = RDPAccountant.defaultOrders.map { alpha in
            1000 * alpha / (2 * sigma * sigma) + log(1 - 1 / alpha) - (log(1e-5) + log(alpha)) / (alpha - 1)
        }
        #expect(epsilon <= max(0, fullGaussian.min()!))
        guard sigma == 300 else { return }
        var z = 0.0
        let timed = try clock.measure {
            z = try RDPAccountant.noiseMultiplier(forTargetEpsilon: 0.01, delta: 1e-5, sampleRate: 0.3, steps: 10)
        }
        #expect(timed < .seconds(10), "\(timed)")
        #expect(z > 100, "z = \(z)")
    }
}
