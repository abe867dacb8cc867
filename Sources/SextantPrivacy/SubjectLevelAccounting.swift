import Foundation

/// The subject-level guarantee when a subject's records live in several silos
/// (docs/design.md 7).
///
/// Each silo runs subject-level DP-SGD on its own records with its own randomness; the
/// server only post-processes what the silos send. Under the adjacency "add or remove all
/// of one subject's records, in every silo that holds them", a silo that holds none of the
/// subject's records releases the same distribution either way (RDP 0 at every order), and
/// each silo that holds some is a sampled Gaussian mechanism run for its steps. Rényi DP
/// composes adaptively by addition (Mironov 2017, Prop. 1), so the subject's RDP at order α
/// is the sum over the silos that hold it: a subject is counted in every silo that holds
/// its records, each silo charging it in full.
///
/// The server does not know which silos hold whom, so its figure counts every silo for
/// every subject (``epsilon(silos:holdings:delta:orders:)`` with `holdings` nil); when the
/// holdings are known (the audit's ground truth) the figure is the worst subject's.
///
/// `Sendable`: a namespace of pure functions.
package enum SubjectLevelAccounting {
    /// What one silo spent: its DP-SGD steps, each a sampled Gaussian mechanism over subjects.
    ///
    /// `Sendable`: a plain value.
    package struct Silo: Sendable, Equatable {
        package var noiseMultiplier: Double
        package var sampleRate: Double
        package var steps: Int

        package init(noiseMultiplier: Double, sampleRate: Double, steps: Int) {
            self.noiseMultiplier = noiseMultiplier
            self.sampleRate = sampleRate
            self.steps = steps
        }
    }

    /// The RDP of a subject whose records are in `silos` (indices into `all`), composed.
    package static func accountant(
        of all: [Silo], holding silos: some Sequence<Int>, orders: [Double] = RDPAccountant.defaultOrders
    ) throws(PrivacyError) -> RDPAccountant {
        var accountant = RDPAccountant(orders: orders)
        for index in Set(silos) {
            guard all.indices.contains(index) else {
                throw PrivacyError(.invalidArgument, "silo \(index) is not one of the \(all.count) silos")
            }
            let silo = all[index]
            try accountant.compose(
                noiseMultiplier: silo.noiseMultiplier, sampleRate: silo.sampleRate, steps: silo.steps)
        }
        return accountant
    }

    /// The subject-level (ε, δ) of the worst subject: for each subject the silos in
    /// `holdings` (one list of silo indices per subject) composed, the largest ε over them;
    /// with `holdings` nil every subject is counted in every silo.
    package static func epsilon(
        silos: [Silo], holdings: [[Int]]?, delta: Double, orders: [Double] = RDPAccountant.defaultOrders
    ) throws(PrivacyError) -> RDPAccountant.Guarantee {
        let sets = holdings.map { Set($0.map { Set($0) }) } ?? [Set(silos.indices)]
        var worst: RDPAccountant.Guarantee?
        for set in sets {
            let guarantee = try accountant(of: silos, holding: set, orders: orders).epsilon(delta: delta)
            if worst == nil || guarantee.epsilon > worst!.epsilon { worst = guarantee }
        }
        guard let worst else {
            return try RDPAccountant(orders: orders).epsilon(delta: delta)
        }
        return worst
    }
}
