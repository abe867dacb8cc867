/// Where client-level noise is added (DP-FedAvg, McMahan et al. 2018; docs/design.md 7).
///
/// - `server`: the server adds `N(0, (zC)²)` to each aggregation event's sum; it must be
///   trusted to do so, and it sees every update in the clear.
/// - `client`: each of the `n` expected clients of an event adds `N(0, (zC)²/n)` to its own
///   clipped update, so the shares add up to the server's noise. This only protects the
///   updates from the server under secure aggregation (it then sees only the sum); without
///   it, each update reaches the server with noise of multiplier `z/√n` only.
///
/// `Sendable`: a plain value.
package enum NoisePlacement: String, Sendable, Equatable, CaseIterable {
    case server
    case client
}
