import Foundation

extension RDPAccountant {
    /// An (ε, δ) guarantee and the Rényi order that gave it.
    ///
    /// `Sendable`: a plain value.
    package struct Guarantee: Sendable, Equatable, CustomStringConvertible {
        package var epsilon: Double
        package var delta: Double
        /// The order at which the conversion was tightest; at an end of the order list it
        /// suggests extending the orders.
        package var order: Double

        package var description: String { "(ε = \(epsilon), δ = \(delta)) at order \(order)" }
    }

    /// The (ε, δ) guarantee of what has been spent, by the improved RDP-to-DP conversion
    /// (Balle et al. 2020; Canonne, Kamath & Steinke 2020), as TF Privacy and Opacus use it:
    /// `ε = min_α RDP(α) + ln((α-1)/α) - (ln δ + ln α) / (α - 1)`.
    ///
    /// It is never worse than the classic `RDP(α) + ln(1/δ)/(α - 1)`. ε is reported as at
    /// least 0. Infinite RDP (no noise) gives ε = +infinity.
    package func epsilon(delta: Double) throws(PrivacyError) -> Guarantee {
        try Self.convert(rdp: rdp, orders: orders, delta: delta)
    }

    /// The improved conversion of an RDP curve; see ``epsilon(delta:)``.
    package static func convert(rdp: [Double], orders: [Double], delta: Double) throws(PrivacyError) -> Guarantee {
        guard delta > 0, delta < 1 else {
            throw PrivacyError(.invalidArgument, "delta must be in (0, 1), got \(delta)")
        }
        precondition(rdp.count == orders.count, "one RDP value per order")
        let logDelta = log(delta)
        var best = Guarantee(epsilon: .infinity, delta: delta, order: orders[0])
        for (alpha, value) in zip(orders, rdp) {
            guard !value.isNaN, value < .infinity else { continue }
            let epsilon = value + log((alpha - 1) / alpha) - (logDelta + log(alpha)) / (alpha - 1)
            if epsilon < best.epsilon { best = Guarantee(epsilon: epsilon, delta: delta, order: alpha) }
        }
        best.epsilon = max(0, best.epsilon)
        return best
    }

    /// ε for `steps` runs of one sampled Gaussian mechanism.
    package static func epsilon(
        noiseMultiplier: Double, sampleRate: Double, steps: Int, delta: Double, orders: [Double] = defaultOrders
    ) throws(PrivacyError) -> Guarantee {
        let curve = try curve(noiseMultiplier: noiseMultiplier, sampleRate: sampleRate, steps: steps, orders: orders)
        return try convert(rdp: curve, orders: orders, delta: delta)
    }

    /// The most runs of one sampled Gaussian mechanism that stay within `(budget, delta)`:
    /// the largest T >= 0 with ε(T) <= budget (0 when even one run exceeds it). ε grows with
    /// T, so a doubling search then bisection on the composed curve `T × curve(1)` finds it.
    package static func maxSteps(
        noiseMultiplier: Double, sampleRate: Double, budget: Double, delta: Double, orders: [Double] = defaultOrders
    ) throws(PrivacyError) -> Int {
        let one = try curve(noiseMultiplier: noiseMultiplier, sampleRate: sampleRate, steps: 1, orders: orders)
        func fits(_ steps: Int) throws(PrivacyError) -> Bool {
            try convert(rdp: one.map { $0 * Double(steps) }, orders: orders, delta: delta).epsilon <= budget
        }
        guard try fits(1) else { return 0 }
        var low = 1
        var high = 2
        while try fits(high) {
            low = high
            guard high < 1 << 40 else { return high }
            high *= 2
        }
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if try fits(middle) { low = middle } else { high = middle }
        }
        return low
    }

    /// The smallest noise multiplier whose `steps` runs at `sampleRate` stay within
    /// `(targetEpsilon, delta)`, found by bisection (ε falls monotonically as the noise grows).
    ///
    /// The bisection works on `log z` and stops when the bracket is 1e-12 wide relatively, so
    /// the returned z meets the target (ε(z) <= target) and is within about 1e-12 of the
    /// smallest that does.
    /// - Throws: ``PrivacyError/Code/unreachableTarget`` when even unbounded noise cannot
    ///   reach the target: with zero RDP the conversion still charges
    ///   `min_α ln((α-1)/α) - (ln δ + ln α)/(α - 1)`, which is positive for small δ.
    package static func noiseMultiplier(
        forTargetEpsilon target: Double, delta: Double, sampleRate: Double, steps: Int,
        orders: [Double] = defaultOrders
    ) throws(PrivacyError) -> Double {
        guard target > 0, target.isFinite else {
            throw PrivacyError(.invalidArgument, "target epsilon must be a finite number > 0, got \(target)")
        }
        guard sampleRate > 0, steps > 0 else {
            throw PrivacyError(
                .invalidArgument,
                "with sampling rate \(sampleRate) and \(steps) steps nothing is released; no noise is needed")
        }
        func epsilon(_ z: Double) throws(PrivacyError) -> Double {
            try Self.epsilon(noiseMultiplier: z, sampleRate: sampleRate, steps: steps, delta: delta, orders: orders)
                .epsilon
        }
        let floor = try convert(rdp: [Double](repeating: 0, count: orders.count), orders: orders, delta: delta).epsilon
        guard floor < target else {
            throw PrivacyError(
                .unreachableTarget,
                "epsilon \(target) cannot be reached at delta \(delta): even infinite noise gives epsilon \(floor) "
                    + "through the RDP conversion at these orders; raise the target or delta")
        }
        var high = 1.0
        while try epsilon(high) > target {
            high *= 2
            if high > 1e12 {
                throw PrivacyError(
                    .unreachableTarget, "no noise multiplier up to 1e12 reaches epsilon \(target) at delta \(delta)")
            }
        }
        var low = high / 2
        while try epsilon(low) <= target {
            high = low
            low /= 2
            if low < 1e-12 { return high }
        }
        // Invariant: ε(low) > target >= ε(high).
        while high / low > 1 + 1e-12 {
            let middle = (low * high).squareRoot()
            if try epsilon(middle) > target { low = middle } else { high = middle }
        }
        return high
    }
}
