import Foundation

/// Client-level DP for federated averaging (McMahan et al. 2018): every update is clipped
/// to L2 norm `C` and Gaussian noise of standard deviation `z·C` is added to the sum of an
/// aggregation event, so that adding or removing one client's whole update is hidden.
///
/// The noise can be added in two places:
/// - on the server, to the sum (``addServerNoise(to:noiseMultiplier:clipNorm:using:)``):
///   one draw of `N(0, (zC)²)` per coordinate; the server must be trusted to add it;
/// - split across the `n` clients of the event (``addClientShare(to:noiseMultiplier:clipNorm:clients:using:)``):
///   each adds `N(0, (zC)²/n)`, so the sum of the `n` shares is `N(0, (zC)²)`. This suits
///   secure aggregation, where the server only sees the sum. If fewer than `n` clients
///   report, the sum carries less noise than accounted; the runtime must account for the
///   clients that actually arrived (or over-provision `n`).
///
/// `Sendable`: a namespace of pure functions.
public enum DPFedAvg {
    /// Where the aggregation noise is added.
    public enum NoisePlacement: String, Sendable, Equatable, CaseIterable {
        case server
        case client
    }

    /// `z·C`: the standard deviation of the noise on the sum.
    public static func serverNoiseStandardDeviation(noiseMultiplier: Double, clipNorm: Double) -> Double {
        noiseMultiplier * clipNorm
    }

    /// `z·C / √n`: each client's share, so that `n` shares add up to `N(0, (zC)²)`.
    /// - Precondition: `clients >= 1`.
    public static func clientNoiseStandardDeviation(noiseMultiplier: Double, clipNorm: Double, clients: Int) -> Double {
        precondition(clients >= 1, "client-side noise needs at least one client")
        return noiseMultiplier * clipNorm / Double(clients).squareRoot()
    }

    /// Adds `N(0, (zC)²)` to every coordinate of an aggregated sum.
    public static func addServerNoise<G: RandomNumberGenerator>(
        to sum: UnsafeMutableBufferPointer<Float>, noiseMultiplier: Double, clipNorm: Double, using generator: inout G
    ) {
        GaussianNoise(
            standardDeviation: serverNoiseStandardDeviation(noiseMultiplier: noiseMultiplier, clipNorm: clipNorm)
        )
        .add(to: sum, using: &generator)
    }

    /// Adds one client's share `N(0, (zC)²/n)` to every coordinate of its (clipped) update.
    public static func addClientShare<G: RandomNumberGenerator>(
        to update: UnsafeMutableBufferPointer<Float>, noiseMultiplier: Double, clipNorm: Double, clients: Int,
        using generator: inout G
    ) {
        let deviation = clientNoiseStandardDeviation(
            noiseMultiplier: noiseMultiplier, clipNorm: clipNorm, clients: clients)
        GaussianNoise(standardDeviation: deviation).add(to: update, using: &generator)
    }

    /// The client's whole part: clip the update to `C`, then, with client-side placement,
    /// add its noise share. Returns the clipping outcome to report (and, with adaptive
    /// clipping, the bit `b = 1` when the update was not clipped).
    @discardableResult
    public static func prepareClientUpdate<G: RandomNumberGenerator>(
        _ update: UnsafeMutableBufferPointer<Float>, clipNorm: Double, noiseMultiplier: Double,
        placement: NoisePlacement, clients: Int, using generator: inout G
    ) -> L2Clipping.Outcome {
        let outcome = L2Clipping(clipNorm: clipNorm).clip(update)
        if placement == .client {
            addClientShare(
                to: update, noiseMultiplier: noiseMultiplier, clipNorm: clipNorm, clients: clients, using: &generator)
        }
        return outcome
    }
}
