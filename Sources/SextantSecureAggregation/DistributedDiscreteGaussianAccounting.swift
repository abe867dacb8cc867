import Foundation
import SextantPrivacy

/// The privacy of a sum of members' updates, each encoded in the ring and noised with its own
/// discrete Gaussian, under secure aggregation (Kairouz, Liu and Steinke 2021, "The
/// distributed discrete Gaussian mechanism"): the server sees only the sum, whose noise is the
/// sum of `n` independent `N_Z(0, σ²)`. That sum is not a discrete Gaussian, but it is close
/// to `N_Z(0, n σ²)`: for one round with L2 sensitivity `Δ` in ring units and `d` coordinates,
/// Rényi DP of order `α` holds with
///
///     RDP(α) = min( α Δ² / (2 n σ²) + τ d,  (α / 2) (Δ / (sqrt(n) σ) + τ sqrt(d))² ),
///     τ = 10 Σ_{k=1}^{n-1} exp(-2 π² σ² k / (k + 1)),
///
/// composed over rounds and converted to (ε, δ) by the project's conversion
/// (`RDPAccountant.convert`, docs/design.md 7). The sensitivity is the quantiser's bound on an
/// encoded update's norm (`RingQuantizer.roundedNormBound`: clipping, scaling and conditional
/// rounding). Modular clipping (the wrap of the sum into `Z_{2^b}`) is post-processing of the
/// noised sum, so it costs no privacy; its effect on accuracy is bounded by
/// `RingQuantizer.noiseWrapProbabilityBound`. Adjacency: zero-out, one member's encoded
/// update replaced by zero (the unit is the member's contribution, participation public);
/// replacing it by another update of the same bound doubles the sensitivity.
package enum DistributedDiscreteGaussianAccounting {
    /// What one round releases.
    ///
    /// `Sendable`: a plain value.
    package struct Round: Sendable, Equatable {
        /// L2 sensitivity of one member's encoded update, in ring units.
        package var sensitivity: Double
        /// Each member's noise variance, in ring units (``DiscreteGaussianSampler/variance``).
        package var variance: Double
        /// The fewest members whose noise is in the sum (survivors of the cohort).
        package var members: Int
        /// Coordinates of the update.
        package var dimension: Int

        package init(sensitivity: Double, variance: Double, members: Int, dimension: Int) {
            self.sensitivity = sensitivity
            self.variance = variance
            self.members = members
            self.dimension = dimension
        }

        /// The round of a quantiser's updates noised by `sampler`, with `members` survivors.
        package init(quantizer: RingQuantizer, sampler: DiscreteGaussianSampler, members: Int) {
            self.init(
                sensitivity: quantizer.roundedNormBound, variance: sampler.variance, members: members,
                dimension: quantizer.dimension)
        }
    }

    /// τ: how far the sum of `members` discrete Gaussians of variance `variance` is from one
    /// discrete Gaussian of `members` times the variance.
    package static func tau(variance: Double, members: Int) -> Double {
        guard members > 1 else { return 0 }
        var sum = 0.0
        for k in 1..<members {
            sum += exp(-2 * Double.pi * Double.pi * variance * Double(k) / Double(k + 1))
        }
        return 10 * sum
    }

    /// RDP of order `order` of one round.
    package static func rdp(order: Double, round: Round) -> Double {
        let n = Double(round.members)
        let d = Double(round.dimension)
        let tau = tau(variance: round.variance, members: round.members)
        let ratio = round.sensitivity / (n * round.variance).squareRoot()
        let first = order * ratio * ratio / 2 + tau * d
        let second = order / 2 * (ratio + tau * d.squareRoot()) * (ratio + tau * d.squareRoot())
        return min(first, second)
    }

    /// ε at `delta` after `rounds` rounds, each like `round`, over the project's orders.
    package static func epsilon(
        round: Round, rounds: Int, delta: Double, orders: [Double] = RDPAccountant.defaultOrders
    ) throws(SecureAggregationError) -> RDPAccountant.Guarantee {
        guard round.members >= 1, round.variance > 0, round.sensitivity >= 0, round.dimension >= 1, rounds >= 0 else {
            throw SecureAggregationError(
                .invalidConfiguration,
                "accounting needs members >= 1, variance > 0, sensitivity >= 0, dimension >= 1, rounds >= 0")
        }
        let curve = orders.map { Double(rounds) * rdp(order: $0, round: round) }
        do {
            return try RDPAccountant.convert(rdp: curve, orders: orders, delta: delta)
        } catch {
            throw SecureAggregationError(.invalidConfiguration, error.description)
        }
    }
}
