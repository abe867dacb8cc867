import Foundation

/// Adaptive clipping by private quantile estimation (Andrew, Thakkar, McMahan & Ramaswamy,
/// "Differentially Private Learning with Adaptive Clipping", NeurIPS 2021).
///
/// A fixed clip norm has to be guessed before training and the right value drifts as
/// updates shrink. Instead, each round every client reports a bit `b = 1` when its update
/// was *not* clipped (`‖Δ‖ <= C_t`); the server forms the noisy fraction
/// `b̃ = clamp(Σ b + N(0, σ_b²), 0, m) / m` and moves the clip norm geometrically,
/// `C_{t+1} = C_t · exp(-η (b̃ - γ))`, toward the `γ`-quantile of the update norms: when
/// more than `γ` of the updates fit, `C` shrinks; when fewer, it grows.
///
/// Order matters: the round's sum is noised with `C_t` (the norm its updates were clipped
/// to), *then* `C` is updated; ``noiseAndUpdate(sum:unclippedCount:participants:using:)``
/// does both in that order. (Flower noises with `C_{t+1}` and uses the clipped fraction
/// with this sign; that is not what the paper does.)
///
/// Privacy (docs/design.md 7): the bits are a second Gaussian query, the sum of raw 0/1 bits
/// with noise `σ_b`. Adding or removing one client moves that sum by up to 1, so its
/// sensitivity is 1 and its RDP at order α is `α/(2σ_b²)`. To account the pair as one
/// Gaussian mechanism with multiplier `z` (RDP `α/(2z²)`), the updates get the noise
/// multiplier `z_Δ` with `z_Δ⁻² = z⁻² - σ_b⁻²`, which needs `z < σ_b`.
///
/// Andrew et al. and TF Privacy centre the bits (`b - 1/2`) so that, with the number of
/// clients hidden behind a fixed denominator, the count has sensitivity 1/2 and costs
/// `(2σ_b)⁻²`. Sextant keeps raw bits and divides by the clients that took part, which it
/// treats as package (as it does the weights `1/m`): under that view centring changes the
/// count by a package constant only and cannot halve its sensitivity, so the count is
/// charged in full.
///
/// `Sendable`: a plain value (a state machine driven by ``noiseAndUpdate(sum:unclippedCount:participants:using:)``).
package struct AdaptiveClipping: Sendable, Equatable {
    /// The parameters of the quantile estimate, with the paper's defaults.
    ///
    /// `Sendable`: a plain value.
    package struct Configuration: Sendable, Equatable {
        /// C₀, the clip norm of the first round.
        package var initialClipNorm: Double
        /// γ, the quantile of update norms to track (0.5: the median).
        package var targetQuantile: Double
        /// η, the geometric learning rate.
        package var learningRate: Double
        /// σ_b, the noise on the count of unclipped updates; `nil` means `m / 20`.
        package var indicatorNoiseStandardDeviation: Double?

        package init(
            initialClipNorm: Double, targetQuantile: Double = 0.5, learningRate: Double = 0.2,
            indicatorNoiseStandardDeviation: Double? = nil
        ) {
            self.initialClipNorm = initialClipNorm
            self.targetQuantile = targetQuantile
            self.learningRate = learningRate
            self.indicatorNoiseStandardDeviation = indicatorNoiseStandardDeviation
        }

        /// σ_b for `m` clients per round.
        package func resolvedIndicatorNoise(clientsPerRound: Int) -> Double {
            indicatorNoiseStandardDeviation ?? Double(clientsPerRound) / 20
        }
    }

    /// What one round did.
    ///
    /// `Sendable`: a plain value.
    package struct RoundOutcome: Sendable, Equatable {
        /// b̃, the noisy, clamped fraction of unclipped updates.
        package var noisyUnclippedFraction: Double
        /// C_t, the norm this round was clipped and noised with.
        package var previousClipNorm: Double
        /// C_{t+1}, the norm for the next round.
        package var clipNorm: Double
    }

    package let configuration: Configuration
    /// z, the noise multiplier the pair (updates, bits) is accounted with.
    package let noiseMultiplier: Double
    /// m, the expected number of clients per round (the denominator of b̃ by default).
    package let clientsPerRound: Int
    /// σ_b, resolved.
    package let indicatorNoiseStandardDeviation: Double
    /// z_Δ, the noise multiplier of the updates themselves.
    package let updateNoiseMultiplier: Double
    /// C_t, the clip norm of the current round.
    package private(set) var clipNorm: Double
    /// Rounds completed.
    package private(set) var round = 0

    /// - Throws: ``PrivacyError/Code/invalidConfiguration`` for a non-positive C₀ or η, a γ
    ///   outside (0, 1), a non-positive σ_b, or `z >= σ_b`.
    package init(configuration: Configuration, noiseMultiplier: Double, clientsPerRound: Int) throws(PrivacyError) {
        guard clientsPerRound >= 1 else {
            throw PrivacyError(
                .invalidConfiguration, "adaptive clipping needs at least one client per round, got \(clientsPerRound)")
        }
        guard configuration.initialClipNorm > 0, configuration.initialClipNorm.isFinite else {
            throw PrivacyError(
                .invalidConfiguration, "initialClipNorm must be finite and > 0, got \(configuration.initialClipNorm)")
        }
        guard configuration.targetQuantile > 0, configuration.targetQuantile < 1 else {
            throw PrivacyError(
                .invalidConfiguration, "targetQuantile must be in (0, 1), got \(configuration.targetQuantile)")
        }
        guard configuration.learningRate > 0, configuration.learningRate.isFinite else {
            throw PrivacyError(
                .invalidConfiguration, "learningRate must be finite and > 0, got \(configuration.learningRate)")
        }
        let sigmaB = configuration.resolvedIndicatorNoise(clientsPerRound: clientsPerRound)
        guard sigmaB > 0, sigmaB.isFinite else {
            throw PrivacyError(
                .invalidConfiguration, "indicatorNoiseStandardDeviation must be finite and > 0, got \(sigmaB)")
        }
        self.configuration = configuration
        self.noiseMultiplier = noiseMultiplier
        self.clientsPerRound = clientsPerRound
        indicatorNoiseStandardDeviation = sigmaB
        updateNoiseMultiplier = try Self.updateNoiseMultiplier(
            noiseMultiplier: noiseMultiplier, indicatorNoiseStandardDeviation: sigmaB, clientsPerRound: clientsPerRound)
        clipNorm = configuration.initialClipNorm
    }

    /// `z_Δ = (z⁻² - σ_b⁻²)^(-1/2)`; 0 when `z = 0` (no noise, no privacy).
    /// - Throws: ``PrivacyError/Code/invalidConfiguration`` when `z >= σ_b`: the count of
    ///   unclipped updates alone would spend the whole budget.
    package static func updateNoiseMultiplier(
        noiseMultiplier z: Double, indicatorNoiseStandardDeviation sigmaB: Double, clientsPerRound: Int? = nil
    ) throws(PrivacyError) -> Double {
        guard z >= 0, z.isFinite else {
            throw PrivacyError(.invalidConfiguration, "noise multiplier must be finite and >= 0, got \(z)")
        }
        if z == 0 { return 0 }
        guard z < sigmaB else {
            let source = clientsPerRound.map { " (σ_b = m/20 with m = \($0) clients per round unless set)" } ?? ""
            throw PrivacyError(
                .invalidConfiguration,
                "noise multiplier z = \(z) must be below σ_b = \(sigmaB)\(source): the clip-norm query "
                    + "spends σ_b^-2 of the budget z^-2 and nothing would be left for the updates; "
                    + "use more clients per round, a larger indicatorNoiseStandardDeviation, or a smaller z")
        }
        return 1 / (1 / (z * z) - 1 / (sigmaB * sigmaB)).squareRoot()
    }

    /// The multiplier the pair (updates with `updateMultiplier`, count with `σ_b`) is
    /// accounted with: `(z_Δ⁻² + σ_b⁻²)^(-1/2)`, the inverse of the split above; 0 when the
    /// updates carry no noise.
    package static func combinedNoiseMultiplier(
        updateNoiseMultiplier updateMultiplier: Double, indicatorNoiseStandardDeviation sigmaB: Double
    ) -> Double {
        guard updateMultiplier > 0 else { return 0 }
        return 1 / (1 / (updateMultiplier * updateMultiplier) + 1 / (sigmaB * sigmaB)).squareRoot()
    }

    /// The bit a client reports: 1 when its update norm fits under `C_t` (not clipped).
    package func indicator(forNorm norm: Double) -> Int {
        norm <= clipNorm ? 1 : 0
    }

    /// `z_Δ · C_t`: the standard deviation of the noise on this round's sum.
    package var updateNoiseStandardDeviation: Double { updateNoiseMultiplier * clipNorm }

    /// Ends a round: adds `N(0, (z_Δ C_t)²)` to `sum` (the sum of updates clipped to `C_t`),
    /// then moves `C` using the `unclippedCount` bits of the `participants` clients
    /// (`nil`: ``clientsPerRound``).
    package mutating func noiseAndUpdate<G: RandomNumberGenerator>(
        sum: UnsafeMutableBufferPointer<Float>, unclippedCount: Int, participants: Int? = nil, using generator: inout G
    ) -> RoundOutcome {
        GaussianNoise(standardDeviation: updateNoiseStandardDeviation).add(to: sum, using: &generator)
        return updateClipNorm(unclippedCount: unclippedCount, participants: participants, using: &generator)
    }

    /// Moves `C` from this round's bits without touching a sum; for callers that noise the
    /// sum themselves (they must use ``updateNoiseStandardDeviation`` *before* calling this).
    package mutating func updateClipNorm<G: RandomNumberGenerator>(
        unclippedCount: Int, participants: Int? = nil, using generator: inout G
    ) -> RoundOutcome {
        let m = Double(participants ?? clientsPerRound)
        let noisyCount =
            Double(unclippedCount) + indicatorNoiseStandardDeviation * GaussianNoise.normal(using: &generator)
        let fraction = m > 0 ? min(max(noisyCount, 0), m) / m : configuration.targetQuantile
        let previous = clipNorm
        clipNorm = previous * exp(-configuration.learningRate * (fraction - configuration.targetQuantile))
        round += 1
        return RoundOutcome(noisyUnclippedFraction: fraction, previousClipNorm: previous, clipNorm: clipNorm)
    }
}
