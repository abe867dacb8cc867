import Foundation
import SextantPrivacy
import SextantScheduling

/// The server's client-level differential privacy (DP-FedAvg, McMahan et al. 2018, with the
/// optional adaptive clip norm of Andrew et al. 2021), one aggregation event at a time.
///
/// Noise-scale convention. The server applies `w += g` with `g = Σ_i c_i Δ_i`, where `c_i`
/// is update i's effective coefficient: its bucket's coefficient times the weight it was
/// accumulated with (FedAvg: `1/m` under `weighting: equal`; Compass, FedAsync, FedBuff:
/// `α S(τ_i) / N`). Every `Δ_i` is clipped to the `C_i` of the version it was trained from.
/// Adding or removing one client changes `g` by at most
///
///     S = max over clients k of Σ_{i of k} c_i C_i
///
/// (a client can have two updates in one Compass event, hence the sum), so the noise is
/// added to `g` itself, in the model's scale, with standard deviation `z_Δ · S`
/// (`z_Δ = z` with a fixed clip norm). With equal weights `1/m` and one C this is exactly
/// DP-FedAvg's `N(0, (zC)²)` on the sum of clipped updates, divided by `m` — the
/// convention of TensorFlow Federated's DP aggregators, which require uniform weighting;
/// ``PrivacySection`` likewise refuses `weighting: samples` under client-level DP, because
/// sample-count shares are not protected and `S` would follow the largest share. The
/// weights and `m` are treated as public, as in TFF.
///
/// Adjacency. Without a fixed denominator the bound holds when one client's updates are
/// replaced by zero with everything else fixed (zero-out; participation, timing and the
/// weights public). With ``Configuration/fixedDenominator`` D (FedAvg and FedAvgM with
/// Poisson client sampling) every coefficient is 1/D, so adding or removing one client
/// moves g by at most C/D, and every event, empty or not, adds noise `z C/D`: add/remove
/// adjacency, amplified by the sampling rate q (docs/design.md 7).
///
/// Accounting. Each event with at least one update (every event with a fixed denominator)
/// is one Gaussian mechanism with multiplier `z_eff` and sampling rate `q` (1 without client
/// sampling), composed over events in RDP and converted to (ε, δ) after each event. `z_eff = z` when the server adds the
/// noise. With client-side noise each client adds `N(0, (z_Δ C_i)²/n)` for the `n`
/// expected clients of an event; the noise actually present in `g` is
/// `sqrt(Σ c_i² z_Δ² C_i² / n)`, and `z_eff` is that over `S` — smaller when fewer than `n`
/// clients arrive, and charged as such. With adaptive clipping `z_eff` joins the update
/// noise and the noisy count of unclipped updates (raw 0/1 bits, sensitivity 1):
/// `z_eff⁻² = z_Δ,eff⁻² + σ_b⁻²`.
///
/// `Codable`: checkpoint it with each aggregation (accumulated RDP, clip-norm history,
/// event count). `Sendable`: a plain value.
package struct ClientLevelPrivacy: Sendable, Codable, Equatable {
    /// Adaptive clipping parameters (see ``AdaptiveClipping``).
    ///
    /// `Sendable`: a plain value.
    package struct AdaptiveSettings: Sendable, Codable, Equatable {
        package var initialClipNorm: Double
        package var targetQuantile: Double
        package var learningRate: Double
        /// σ_b; nil: m/20 for m the expected clients per event.
        package var indicatorNoise: Double?

        package init(
            initialClipNorm: Double, targetQuantile: Double = 0.5, learningRate: Double = 0.2,
            indicatorNoise: Double? = nil
        ) {
            self.initialClipNorm = initialClipNorm
            self.targetQuantile = targetQuantile
            self.learningRate = learningRate
            self.indicatorNoise = indicatorNoise
        }

        package var adaptiveConfiguration: AdaptiveClipping.Configuration {
            AdaptiveClipping.Configuration(
                initialClipNorm: initialClipNorm, targetQuantile: targetQuantile, learningRate: learningRate,
                indicatorNoiseStandardDeviation: indicatorNoise)
        }
    }

    /// How updates are clipped.
    package enum Clipping: Sendable, Codable, Equatable {
        case fixed(Double)
        case adaptive(AdaptiveSettings)
    }

    /// The settings, resolved (z calibrated already).
    ///
    /// `Sendable`: a plain value.
    package struct Configuration: Sendable, Codable, Equatable {
        /// z, the noise multiplier every event is accounted with when all goes as planned.
        package var noiseMultiplier: Double
        package var clipping: Clipping
        /// δ of the reported (ε, δ).
        package var delta: Double
        package var placement: NoisePlacement
        /// q, the client sampling rate (1: none).
        package var sampleRate: Double
        /// n: σ_b defaults to n/20 and client-side noise is split into n shares.
        package var expectedClientsPerEvent: Int
        /// D, the fixed denominator of FedAvg under add/remove adjacency: every update's
        /// coefficient is 1/D, so an event's sensitivity is C/D whoever takes part, and every
        /// event releases noise, empty ones included. nil: zero-out adjacency, the
        /// sensitivity of the updates that arrived (docs/design.md 7).
        package var fixedDenominator: Double?
        /// `privacy.target_epsilon` as a limit: an event that would take ε past it is not
        /// released, and the server stops the run (nil: no limit).
        package var epsilonBudget: Double?

        package init(
            noiseMultiplier: Double, clipping: Clipping, delta: Double, placement: NoisePlacement = .server,
            sampleRate: Double = 1, expectedClientsPerEvent: Int, fixedDenominator: Double? = nil,
            epsilonBudget: Double? = nil
        ) {
            self.fixedDenominator = fixedDenominator
            self.epsilonBudget = epsilonBudget
            self.noiseMultiplier = noiseMultiplier
            self.clipping = clipping
            self.delta = delta
            self.placement = placement
            self.sampleRate = sampleRate
            self.expectedClientsPerEvent = expectedClientsPerEvent
        }

        enum CodingKeys: String, CodingKey {
            case noiseMultiplier, clipping, delta, placement, sampleRate, expectedClientsPerEvent, fixedDenominator
            case epsilonBudget
        }

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            noiseMultiplier = try c.decode(Double.self, forKey: .noiseMultiplier)
            clipping = try c.decode(Clipping.self, forKey: .clipping)
            delta = try c.decode(Double.self, forKey: .delta)
            let placementName = try c.decode(String.self, forKey: .placement)
            guard let placement = NoisePlacement(rawValue: placementName) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .placement, in: c, debugDescription: "unknown noise placement '\(placementName)'")
            }
            self.placement = placement
            sampleRate = try c.decode(Double.self, forKey: .sampleRate)
            expectedClientsPerEvent = try c.decode(Int.self, forKey: .expectedClientsPerEvent)
            fixedDenominator = try c.decodeIfPresent(Double.self, forKey: .fixedDenominator)
            epsilonBudget = try c.decodeIfPresent(Double.self, forKey: .epsilonBudget)
        }

        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(noiseMultiplier, forKey: .noiseMultiplier)
            try c.encode(clipping, forKey: .clipping)
            try c.encode(delta, forKey: .delta)
            try c.encode(placement.rawValue, forKey: .placement)
            try c.encode(sampleRate, forKey: .sampleRate)
            try c.encode(expectedClientsPerEvent, forKey: .expectedClientsPerEvent)
            try c.encodeIfPresent(fixedDenominator, forKey: .fixedDenominator)
            try c.encodeIfPresent(epsilonBudget, forKey: .epsilonBudget)
        }

        /// What the reported ε protects, in the words every log and report prints beside it.
        package var guaranteeDescription: String {
            ClientLevelPrivacy.guaranteeDescription(
                addRemove: fixedDenominator != nil, sampleRate: sampleRate, delta: delta)
        }
    }

    /// "client-level, add/remove one client, Poisson client sampling q=…, delta=…" (FedAvg
    /// with a fixed denominator) or "client-level, zero-out adjacency, participation public,
    /// delta=…" (every other scheduler): docs/design.md 7.
    package static func guaranteeDescription(addRemove: Bool, sampleRate: Double, delta: Double) -> String {
        addRemove
            ? "client-level, add/remove one client, Poisson client sampling q=\(sampleRate), delta=\(delta)"
            : "client-level, zero-out adjacency, participation public, delta=\(delta)"
    }

    /// One update's part in an event.
    ///
    /// `Sendable`: a plain value.
    package struct Contribution: Sendable, Equatable {
        package var client: String
        /// c_i: bucket coefficient × accumulation weight, the factor the model applies to Δ_i.
        package var coefficient: Double
        /// C_i, the norm Δ_i was clipped to (the clip norm of its base version).
        package var clipNorm: Double
        /// b_i = 1: the update's norm was at most C_i before clipping.
        package var unclipped: Bool

        package init(client: String, coefficient: Double, clipNorm: Double, unclipped: Bool) {
            self.client = client
            self.coefficient = coefficient
            self.clipNorm = clipNorm
            self.unclipped = unclipped
        }
    }

    /// What an event did, for logs, `/status` and the checkpoint's metrics.
    ///
    /// `Sendable`: a plain value.
    package struct EventOutcome: Sendable, Equatable {
        package var version: Int
        package var updates: Int
        package var clients: Int
        /// Updates that were clipped (norm above their C_i).
        package var clippedUpdates: Int
        /// S, the L2 sensitivity of the event's step g.
        package var sensitivity: Double
        /// The std of the noise the server added to every coordinate of g (0 with client-side noise).
        package var noiseStandardDeviation: Double
        /// The multiplier this event was accounted with (0 when nothing was released).
        package var effectiveNoiseMultiplier: Double
        package var previousClipNorm: Double
        /// C for the next version.
        package var clipNorm: Double
        /// b̃ with adaptive clipping.
        package var noisyUnclippedFraction: Double?
        /// ε after this event at the configured δ.
        package var epsilon: Double
        /// The Rényi order that gave ``epsilon``.
        package var order: Double
        /// With client-side noise and no secure aggregation: ε after this event against the
        /// server, which sees each update with only its own noise share (see
        /// ``serverObserverEpsilon``); nil with server-side noise.
        package var serverObserverEpsilon: Double? = nil
    }

    /// What the server learns about an update on arrival (``admit(_:baseVersion:normBeforeClip:)``).
    ///
    /// `Sendable`: a plain value.
    package struct Admission: Sendable, Equatable {
        package var clipNorm: Double
        package var unclipped: Bool
        /// The server had to clip the delta itself (the client did not, or lied).
        package var clippedByServer: Bool
    }

    package let configuration: Configuration
    /// z_Δ: the updates' own multiplier (= z with a fixed clip norm).
    package let updateNoiseMultiplier: Double
    /// σ_b with adaptive clipping, nil otherwise.
    package let indicatorNoise: Double?
    /// The Rényi orders of ``rdp``.
    package let orders: [Double]
    /// Accumulated RDP at each order.
    package private(set) var rdp: [Double]
    /// Events accounted (those that included at least one update).
    package private(set) var events = 0
    /// The version of ``clipNormHistory``'s first entry.
    package private(set) var firstVersion: Int
    /// C at each version from ``firstVersion`` on; the last entry is the current one.
    package private(set) var clipNormHistory: [Double]
    /// With client-side noise: the RDP spent against the server, which sees every update
    /// on its own, at each order of ``orders``; nil with server-side noise.
    package private(set) var serverObserverRDP: [Double]?

    /// - Parameter version: the model version the run is at (0 for a new run).
    /// - Throws: ``PrivacyError`` when z is not finite and > 0, q is not in (0, 1], n < 1,
    ///   C is not finite and > 0, or, with adaptive clipping, z >= σ_b.
    package init(configuration: Configuration, version: Int = 0, orders: [Double] = RDPAccountant.defaultOrders)
        throws(PrivacyError)
    {
        let z = configuration.noiseMultiplier
        guard z > 0, z.isFinite else {
            throw PrivacyError(.invalidConfiguration, "noise multiplier must be finite and > 0, got \(z)")
        }
        guard configuration.sampleRate > 0, configuration.sampleRate <= 1 else {
            throw PrivacyError(
                .invalidConfiguration, "client sampling rate must be in (0, 1], got \(configuration.sampleRate)")
        }
        guard configuration.expectedClientsPerEvent >= 1 else {
            throw PrivacyError(
                .invalidConfiguration,
                "expected clients per event must be >= 1, got \(configuration.expectedClientsPerEvent)")
        }
        guard configuration.delta > 0, configuration.delta < 1 else {
            throw PrivacyError(.invalidConfiguration, "delta must be in (0, 1), got \(configuration.delta)")
        }
        if let denominator = configuration.fixedDenominator {
            guard denominator > 0, denominator.isFinite else {
                throw PrivacyError(
                    .invalidConfiguration, "the fixed denominator must be finite and > 0, got \(denominator)")
            }
        }
        let initialClipNorm: Double
        switch configuration.clipping {
        case .fixed(let c):
            guard c > 0, c.isFinite else {
                throw PrivacyError(.invalidConfiguration, "clip norm must be finite and > 0, got \(c)")
            }
            initialClipNorm = c
            updateNoiseMultiplier = z
            indicatorNoise = nil
        case .adaptive(let settings):
            let adaptive = try AdaptiveClipping(
                configuration: settings.adaptiveConfiguration, noiseMultiplier: z,
                clientsPerRound: configuration.expectedClientsPerEvent)
            initialClipNorm = settings.initialClipNorm
            updateNoiseMultiplier = adaptive.updateNoiseMultiplier
            indicatorNoise = adaptive.indicatorNoiseStandardDeviation
        }
        self.configuration = configuration
        self.orders = orders
        rdp = [Double](repeating: 0, count: orders.count)
        firstVersion = version
        clipNormHistory = [initialClipNorm]
        serverObserverRDP = configuration.placement == .client ? rdp : nil
    }

    // MARK: - What clients are told

    /// C for the current version: send it in every assignment's `clipNorm`.
    package var currentClipNorm: Double { clipNormHistory[clipNormHistory.count - 1] }

    /// The C an update trained from `version` was told to clip to.
    package func clipNorm(atVersion version: Int) -> Double {
        let index = version - firstVersion
        if index < 0 { return clipNormHistory[0] }
        return index < clipNormHistory.count ? clipNormHistory[index] : currentClipNorm
    }

    /// The multiplier to send in an assignment's `noiseMultiplier`: each client adds
    /// `N(0, (this · C)²)` to its clipped update. `z_Δ / √n` with client-side noise, 0 otherwise.
    package var clientNoiseMultiplier: Double {
        guard configuration.placement == .client else { return 0 }
        return updateNoiseMultiplier / Double(configuration.expectedClientsPerEvent).squareRoot()
    }

    // MARK: - Arrival

    /// Checks an arriving update against the C of its base version. With server-side noise
    /// the server clips `delta` itself whenever its norm exceeds C, so a
    /// client that skipped clipping cannot break the sensitivity bound; with client-side noise
    /// the delta carries noise and cannot be checked. Idempotent: call it again on replay.
    @discardableResult
    package func admit(
        _ delta: UnsafeMutableBufferPointer<Float>, baseVersion: Int, normBeforeClip: Double,
        measuredNorm: Double? = nil
    ) -> Admission {
        let c = clipNorm(atVersion: baseVersion)
        var clippedByServer = false
        if configuration.placement == .server, let norm = measuredNorm, norm <= c * (1 + 1e-6) {
            // Already measured (by the wire decoder) and within C: nothing to rewrite.
        } else if configuration.placement == .server {
            // Clipping again is harmless for an honest client's delta (at most a Float-rounding
            // rescale); only a norm beyond that rounding (~1.2e-7 relative) counts as the
            // server's doing.
            let outcome = L2Clipping(clipNorm: c).clip(delta)
            clippedByServer = !(outcome.normBeforeClipping <= c * (1 + 1e-6))
        }
        let unclipped = !clippedByServer && normBeforeClip.isFinite && normBeforeClip <= c
        return Admission(clipNorm: c, unclipped: unclipped, clippedByServer: clippedByServer)
    }

    // MARK: - Events

    /// Ends an aggregation event producing `newVersion`: adds the server's noise (in the
    /// scale of the step g, see the type's documentation) to `noise`, which the caller then
    /// adds to g; moves an adaptive C; composes the event into the accountant.
    ///
    /// With no contributions nothing is released: no noise, no privacy spent, C unchanged.
    package mutating func finishEvent<G: RandomNumberGenerator>(
        newVersion: Int, contributions: [Contribution], noise: UnsafeMutableBufferPointer<Float>,
        using generator: inout G
    ) throws(PrivacyError) -> EventOutcome {
        let previous = currentClipNorm
        var perClient: [String: (sensitivity: Double, unclipped: Bool)] = [:]
        var variance = 0.0  // of the client-side noise present in g
        let share = clientNoiseMultiplier
        for contribution in contributions {
            let part = abs(contribution.coefficient) * contribution.clipNorm
            let entry = perClient[contribution.client] ?? (0, true)
            perClient[contribution.client] = (entry.sensitivity + part, entry.unclipped && contribution.unclipped)
            let deviation = share * contribution.clipNorm * contribution.coefficient
            variance += deviation * deviation
        }
        var sensitivity = perClient.values.map(\.sensitivity).max() ?? 0
        if let denominator = configuration.fixedDenominator {
            // Add/remove: the client added could be anyone, with an update clipped to C.
            sensitivity = max(sensitivity, previous / denominator)
        }
        var outcome = EventOutcome(
            version: newVersion, updates: contributions.count, clients: perClient.count,
            clippedUpdates: contributions.filter { !$0.unclipped }.count, sensitivity: sensitivity,
            noiseStandardDeviation: 0, effectiveNoiseMultiplier: 0, previousClipNorm: previous, clipNorm: previous,
            noisyUnclippedFraction: nil, epsilon: 0, order: orders[0])
        if sensitivity > 0 {
            // What the event will be charged, known before any noise is drawn.
            let updateMultiplier: Double
            var serverNoise = 0.0
            switch configuration.placement {
            case .server:
                serverNoise = updateNoiseMultiplier * sensitivity
                updateMultiplier = updateNoiseMultiplier
            case .client where configuration.fixedDenominator != nil:
                // The server tops up what the shares that arrived lack, so every event
                // carries z·S whoever took part.
                serverNoise = max(0, pow(updateNoiseMultiplier * sensitivity, 2) - variance).squareRoot()
                updateMultiplier = updateNoiseMultiplier
            case .client:
                updateMultiplier = variance.squareRoot() / sensitivity
            }
            var accounted = updateMultiplier
            if let sigmaB = indicatorNoise {
                accounted = AdaptiveClipping.combinedNoiseMultiplier(
                    updateNoiseMultiplier: updateMultiplier, indicatorNoiseStandardDeviation: sigmaB)
            }
            let curve = try RDPAccountant.curve(
                noiseMultiplier: accounted, sampleRate: configuration.sampleRate, steps: 1, orders: orders)
            let spent = zip(rdp, curve).map { $0 + $1 }
            try checkBudget(spent, newVersion: newVersion)
            outcome.noiseStandardDeviation = serverNoise
            GaussianNoise(standardDeviation: serverNoise).add(to: noise, using: &generator)
            if case .adaptive(let settings) = configuration.clipping {
                var adaptive = try AdaptiveClipping(
                    configuration: settings.adaptiveConfiguration.withInitialClipNorm(previous),
                    noiseMultiplier: configuration.noiseMultiplier,
                    clientsPerRound: configuration.expectedClientsPerEvent)
                let unclippedClients = perClient.values.filter(\.unclipped).count
                // Under add/remove the number that arrived is not public: divide by the expected.
                let round = adaptive.updateClipNorm(
                    unclippedCount: unclippedClients,
                    participants: configuration.fixedDenominator == nil ? perClient.count : nil, using: &generator)
                outcome.clipNorm = round.clipNorm
                outcome.noisyUnclippedFraction = round.noisyUnclippedFraction
            }
            outcome.effectiveNoiseMultiplier = accounted
            rdp = spent
            events += 1
            if configuration.placement == .client {
                spendAgainstTheServer(contributions)
            }
        }
        record(clipNorm: outcome.clipNorm, atVersion: newVersion)
        if events > 0 {
            let guarantee = try epsilon(delta: configuration.delta)
            outcome.epsilon = guarantee.epsilon
            outcome.order = guarantee.order
            outcome.serverObserverEpsilon = serverObserverEpsilon
        }
        return outcome
    }

    /// Refuses an event whose release would take ε past ``Configuration/epsilonBudget``
    /// (rounding of 1e-9 relative aside: z calibrated to the target reaches it exactly after
    /// the planned events, summed in another order).
    private func checkBudget(_ spent: [Double], newVersion: Int) throws(PrivacyError) {
        guard let budget = configuration.epsilonBudget else { return }
        let next = try RDPAccountant.convert(rdp: spent, orders: orders, delta: configuration.delta).epsilon
        guard next > budget * (1 + 1e-9) else { return }
        throw PrivacyError(
            .budgetSpent,
            "client-level privacy budget reached: aggregating version \(newVersion) would spend epsilon "
                + String(format: "%.4f", next) + " > privacy.target_epsilon \(budget); epsilon stays "
                + String(format: "%.4f", epsilon) + " after \(events) events (\(configuration.guaranteeDescription))")
    }

    /// ``finishEvent(newVersion:contributions:noise:using:)`` with noise from the OS's secure generator.
    package mutating func finishEvent(
        newVersion: Int, contributions: [Contribution], noise: UnsafeMutableBufferPointer<Float>
    ) throws(PrivacyError) -> EventOutcome {
        var generator = try SecureRandom()
        return try finishEvent(newVersion: newVersion, contributions: contributions, noise: noise, using: &generator)
    }

    /// (ε, δ) spent so far, by the RDP conversion (which charges a small floor, about
    /// 0.0035 at δ = 1e-5, even before any event; ``epsilon`` reports 0 then).
    package func epsilon(delta: Double) throws(PrivacyError) -> RDPAccountant.Guarantee {
        try RDPAccountant.convert(rdp: rdp, orders: orders, delta: delta)
    }

    /// ε spent so far at the configured δ (0 before any event released anything).
    package var epsilon: Double {
        guard events > 0 else { return 0 }
        return (try? epsilon(delta: configuration.delta).epsilon) ?? .infinity
    }

    /// ε against the server at the configured δ, with client-side noise (nil otherwise; 0
    /// before any event). Client-level, add/remove one client, like ``epsilon``, but for an
    /// observer that sees each update before aggregation: an update clipped to `C_i` carries
    /// noise `z_Δ C_i/√n` (``clientNoiseMultiplier``), a Gaussian mechanism of multiplier
    /// `z_Δ/√n`, and each event charges the client with the most updates in it. With
    /// adaptive clipping the server also sees each client's clipped bit unnoised: unbounded
    /// (reported as `Double.greatestFiniteMagnitude`).
    package var serverObserverEpsilon: Double? {
        guard let serverObserverRDP else { return nil }
        guard events > 0 else { return 0 }
        return (try? RDPAccountant.convert(rdp: serverObserverRDP, orders: orders, delta: configuration.delta).epsilon)
            ?? .infinity
    }

    private mutating func spendAgainstTheServer(_ contributions: [Contribution]) {
        guard var spent = serverObserverRDP else { return }
        if case .adaptive = configuration.clipping {
            // Unbounded; kept finite so that the checkpoint's JSON can hold it.
            serverObserverRDP = spent.map { _ in .greatestFiniteMagnitude }
            return
        }
        var updatesPerClient: [String: Int] = [:]
        for contribution in contributions { updatesPerClient[contribution.client, default: 0] += 1 }
        let most = updatesPerClient.values.max() ?? 0
        for (index, alpha) in orders.enumerated() {
            spent[index] += Double(most) * alpha / (2 * clientNoiseMultiplier * clientNoiseMultiplier)
        }
        serverObserverRDP = spent
    }

    private mutating func record(clipNorm: Double, atVersion version: Int) {
        let index = version - firstVersion
        guard index >= 0 else { return }
        while clipNormHistory.count < index { clipNormHistory.append(currentClipNorm) }
        if index < clipNormHistory.count {
            clipNormHistory[index] = clipNorm
            clipNormHistory.removeSubrange((index + 1)...)
        } else {
            clipNormHistory.append(clipNorm)
        }
    }

    // MARK: - Codable

    enum CodingKeys: String, CodingKey {
        case configuration, orders, rdp, events, firstVersion, clipNormHistory, serverObserverRDP
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let configuration = try c.decode(Configuration.self, forKey: .configuration)
        let orders = try c.decode([Double].self, forKey: .orders)
        var restored = try ClientLevelPrivacy(configuration: configuration, version: 0, orders: orders)
        let rdp = try c.decode([Double].self, forKey: .rdp)
        let history = try c.decode([Double].self, forKey: .clipNormHistory)
        guard rdp.count == orders.count, !history.isEmpty else {
            throw DecodingError.dataCorruptedError(
                forKey: .rdp, in: c,
                debugDescription: "privacy state has \(rdp.count) RDP values for \(orders.count) orders")
        }
        restored.rdp = rdp
        restored.events = try c.decode(Int.self, forKey: .events)
        restored.firstVersion = try c.decode(Int.self, forKey: .firstVersion)
        restored.clipNormHistory = history
        if restored.serverObserverRDP != nil {
            // A checkpoint from before this was tracked: what the server saw is not known.
            restored.serverObserverRDP =
                try c.decodeIfPresent([Double].self, forKey: .serverObserverRDP)
                ?? orders.map { _ in restored.events > 0 ? .greatestFiniteMagnitude : 0 }
        }
        self = restored
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(configuration, forKey: .configuration)
        try c.encode(orders, forKey: .orders)
        try c.encode(rdp, forKey: .rdp)
        try c.encode(events, forKey: .events)
        try c.encode(firstVersion, forKey: .firstVersion)
        try c.encode(clipNormHistory, forKey: .clipNormHistory)
        try c.encodeIfPresent(serverObserverRDP, forKey: .serverObserverRDP)
    }
}

extension AdaptiveClipping.Configuration {
    fileprivate func withInitialClipNorm(_ clipNorm: Double) -> AdaptiveClipping.Configuration {
        var copy = self
        copy.initialClipNorm = clipNorm
        return copy
    }
}
