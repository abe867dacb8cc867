import Foundation

/// Subject-level guarantees from record-level DP: a subject who contributed `k` records
/// is protected as a group of `k` records.
///
/// We use the (ε, δ) group-privacy lemma (Dwork & Roth 2014, Thm. 2.2 and its δ version
/// by induction): an (ε, δ)-DP mechanism is `(k ε, k e^{(k-1)ε} δ)`-DP for groups of `k`.
/// We prefer it to the RDP group-privacy bound (Mironov 2017, Prop. 2) because that bound
/// holds only for groups of size `2^c`, divides the order by `2^c` and multiplies the RDP
/// by `3^c` — for the sampled Gaussian it is looser at the sizes that matter and it is
/// harder to audit. The lemma holds for any mechanism, so it stays valid whatever else
/// is composed into the accountant.
///
/// Because the group's δ grows by `k e^{(k-1)ε}`, ``RDPAccountant/groupGuarantee(groupSize:delta:)``
/// searches for the per-record δ that meets a target group δ with the smallest group ε.
///
/// `Sendable`: a namespace of pure functions.
package enum GroupPrivacy {
    /// The `(k ε, k e^{(k-1)ε} δ)` guarantee for groups of `groupSize` from an (ε, δ) one.
    /// The group δ can exceed 1, in which case the guarantee is vacuous.
    /// - Precondition: `groupSize >= 1`.
    package static func convert(epsilon: Double, delta: Double, groupSize: Int) -> (epsilon: Double, delta: Double) {
        precondition(groupSize >= 1, "a group has at least one record")
        let k = Double(groupSize)
        return (k * epsilon, k * exp((k - 1) * epsilon) * delta)
    }
}

extension RDPAccountant {
    /// A subject-level guarantee: the group (ε, δ) and the record-level (ε, δ) it came from.
    ///
    /// `Sendable`: a plain value.
    package struct GroupGuarantee: Sendable, Equatable, CustomStringConvertible {
        package var groupSize: Int
        package var epsilon: Double
        package var delta: Double
        /// The record-level guarantee the group one was derived from.
        package var record: Guarantee

        package var description: String {
            "subjects with \(groupSize) records: (ε = \(epsilon), δ = \(delta)), from record-level \(record)"
        }
    }

    /// The smallest group ε, with group δ at most `delta`, that the (ε, δ) group-privacy
    /// lemma gives for subjects with `groupSize` records; see ``GroupPrivacy``.
    ///
    /// The per-record δ is scanned on a log grid (20 points per decade over 30 decades below
    /// `delta / k`); every grid point that meets the target is a valid guarantee, so taking
    /// the best is sound, and the grid only decides how close to optimal the answer is.
    /// - Throws: ``PrivacyError/Code/unreachableTarget`` when no per-record δ meets the
    ///   target group δ (ε too large for the group factor `e^{(k-1)ε}`).
    package func groupGuarantee(groupSize: Int, delta: Double) throws(PrivacyError) -> GroupGuarantee {
        guard groupSize >= 1 else {
            throw PrivacyError(.invalidArgument, "group size must be >= 1, got \(groupSize)")
        }
        guard delta > 0, delta < 1 else {
            throw PrivacyError(.invalidArgument, "delta must be in (0, 1), got \(delta)")
        }
        if groupSize == 1 {
            let record = try epsilon(delta: delta)
            return GroupGuarantee(groupSize: 1, epsilon: record.epsilon, delta: delta, record: record)
        }
        let top = log10(delta / Double(groupSize))
        var best: GroupGuarantee?
        for step in 0...600 {
            let recordDelta = pow(10, top - Double(step) / 20)
            guard recordDelta > 0 else { break }
            let record = try epsilon(delta: recordDelta)
            let group = GroupPrivacy.convert(epsilon: record.epsilon, delta: recordDelta, groupSize: groupSize)
            guard group.delta <= delta else { continue }
            if best == nil || group.epsilon < best!.epsilon {
                best = GroupGuarantee(groupSize: groupSize, epsilon: group.epsilon, delta: group.delta, record: record)
            }
        }
        guard let best else {
            throw PrivacyError(
                .unreachableTarget,
                "no record-level delta gives group delta <= \(delta) for groups of \(groupSize): "
                    + "the record-level epsilon is too large for the group factor k·e^((k-1)ε)")
        }
        return best
    }
}
