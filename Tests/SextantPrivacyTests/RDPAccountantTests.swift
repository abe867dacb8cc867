import Foundation
import Testing

@testable import SextantPrivacy

/// The published reference values of DESIGN.md §7 (improved conversion, the default orders).
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
        try accountant.compose(noiseMultiplier: reference.noiseMultiplier, sampleRate: reference.sampleRate, steps: reference.steps)
        let guarantee = try accountant.epsilon(delta: reference.delta)
        print("reference \(reference): epsilon = \(String(format: "%.12f", guarantee.epsilon)) at order \(guarantee.order)")
        #expect(abs(guarantee.epsilon - reference.epsilon) / reference.epsilon < 5e-9, "\(guarantee)")
        if let order = reference.order { #expect(guarantee.order == order) }
    }
}
