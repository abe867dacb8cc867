import Foundation

/// Tracks the Rényi differential privacy spent by a sequence of sampled Gaussian
/// mechanisms and converts it to an (ε, δ) guarantee.
///
/// RDP composes by addition at each order, so the accountant keeps one number per order
/// and adds each mechanism's curve to it; mechanisms with different noise multipliers and
/// sampling rates mix freely (DP-SGD steps with a changed batch size, client-level
/// aggregation events, the adaptive-clipping query accounted jointly with the updates).
///
/// For client-level DP with semi-asynchronous aggregation and no random client sampling,
/// compose each aggregation event with `sampleRate: 1` (every included client is "sampled"),
/// which is conservative; with Poisson client sampling (FedAvg), use the sampling rate.
///
/// `Sendable`: a plain value.
package struct RDPAccountant: Sendable, Equatable {
    /// The orders used by TensorFlow Privacy and Opacus: 1.1 to 10.9 in steps of 0.1, then
    /// 11 to 63, then 128, 256, 512, 1024. Low fractional orders serve large ε (few steps,
    /// little noise); high orders serve small ε with tiny δ.
    package static let defaultOrders: [Double] = {
        // Tenths as integer ratios, so that 2.0, 3.0, ... are exact and take the integer path.
        var orders: [Double] = (11...109).map { (tenths: Int) -> Double in Double(tenths) / 10 }
        orders += (11...63).map { (order: Int) -> Double in Double(order) }
        orders += [128, 256, 512, 1024]
        return orders
    }()

    /// The Rényi orders, each above 1.
    package let orders: [Double]
    /// The accumulated RDP at each order (same indices as ``orders``).
    package private(set) var rdp: [Double]

    /// An accountant that has spent nothing.
    /// - Precondition: every order exceeds 1.
    package init(orders: [Double] = RDPAccountant.defaultOrders) {
        precondition(!orders.isEmpty && orders.allSatisfy { $0 > 1 }, "Rényi orders must be > 1")
        self.orders = orders
        rdp = [Double](repeating: 0, count: orders.count)
    }

    /// Adds `steps` runs of the sampled Gaussian mechanism with noise multiplier
    /// `noiseMultiplier` (noise std / L2 sensitivity) and Poisson sampling rate `sampleRate`.
    package mutating func compose(noiseMultiplier: Double, sampleRate: Double, steps: Int) throws(PrivacyError) {
        let curve = try Self.curve(
            noiseMultiplier: noiseMultiplier, sampleRate: sampleRate, steps: steps, orders: orders)
        for index in rdp.indices { rdp[index] += curve[index] }
    }

    /// Adds another accountant's spending (same orders), e.g. a second phase of training.
    /// - Precondition: both accountants use the same orders.
    package mutating func compose(_ other: RDPAccountant) {
        precondition(other.orders == orders, "accountants must use the same orders to compose")
        for index in rdp.indices { rdp[index] += other.rdp[index] }
    }

    /// The RDP curve of `steps` runs of one mechanism at `orders`.
    package static func curve(
        noiseMultiplier: Double, sampleRate: Double, steps: Int, orders: [Double] = defaultOrders
    ) throws(PrivacyError) -> [Double] {
        guard noiseMultiplier >= 0, noiseMultiplier.isFinite else {
            throw PrivacyError(
                .invalidArgument, "noise multiplier must be a finite number >= 0, got \(noiseMultiplier)")
        }
        guard sampleRate >= 0, sampleRate <= 1 else {
            throw PrivacyError(.invalidArgument, "sampling rate must be in [0, 1], got \(sampleRate)")
        }
        guard steps >= 0 else {
            throw PrivacyError(.invalidArgument, "the number of steps must be >= 0, got \(steps)")
        }
        if steps == 0 { return [Double](repeating: 0, count: orders.count) }
        return orders.map {
            Double(steps) * SampledGaussianRDP.rdp(noiseMultiplier: noiseMultiplier, sampleRate: sampleRate, order: $0)
        }
    }
}
