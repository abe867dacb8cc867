extension PrivacyConfiguration.NoiseCalibration {
    /// The noise multiplier: the given one, or the smallest that keeps `steps` runs at
    /// `sampleRate` within the target ε at `delta` (see
    /// ``RDPAccountant/noiseMultiplier(forTargetEpsilon:delta:sampleRate:steps:orders:)``).
    public func noiseMultiplier(delta: Double, sampleRate: Double, steps: Int) throws(PrivacyError) -> Double {
        switch self {
        case .noiseMultiplier(let z):
            return z
        case .targetEpsilon(let epsilon):
            return try RDPAccountant.noiseMultiplier(
                forTargetEpsilon: epsilon, delta: delta, sampleRate: sampleRate, steps: steps)
        }
    }
}

extension PrivacyConfiguration {
    /// The client-level noise multiplier z for `events` aggregation events. Without random
    /// client sampling (semi-asynchronous aggregation) each event is accounted with q = 1,
    /// the default; with Poisson client sampling pass its rate. With adaptive clipping this
    /// is the combined z; ``AdaptiveClipping`` derives the updates' `z_Δ` from it.
    public func clientNoiseMultiplier(events: Int, sampleRate: Double = 1) throws(PrivacyError) -> Double {
        try noise.noiseMultiplier(delta: delta, sampleRate: sampleRate, steps: events)
    }

    /// The record-level (DP-SGD) noise multiplier for `steps` local steps.
    /// - Throws: ``PrivacyError/Code/invalidConfiguration`` when there are no record-level settings.
    public func recordNoiseMultiplier(steps: Int) throws(PrivacyError) -> Double {
        guard let recordLevel else {
            throw PrivacyError(.invalidConfiguration, "no recordLevel settings: mode is \(mode.rawValue)")
        }
        return try recordLevel.noise.noiseMultiplier(
            delta: recordLevel.delta ?? delta, sampleRate: recordLevel.sampleRate, steps: steps)
    }
}
