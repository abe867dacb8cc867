import Foundation

/// Record-level DP-SGD inside a client (Abadi et al. 2016): each example's gradient is
/// clipped to L2 norm `C`, the clipped gradients are summed, `N(0, (zC)²)` is added to the
/// sum, and the result is divided by the *expected* batch size `q·n`.
///
/// Dividing by the expected rather than the drawn batch size keeps the sensitivity of the
/// released average at `C / (qn)` whatever the Poisson draw was; dividing by the drawn
/// size would leak the size.
///
/// Usage: one ``DPSGD`` per step (or reuse it: ``finish(expectedBatchSize:using:)`` resets
/// it), ``accumulateClipped(gradient:)`` once per example of the Poisson-sampled batch, then
/// ``finish(expectedBatchSize:using:)``; or ``privatizedGradient(examples:expectedBatchSize:using:gradientOf:)``,
/// which hands a reused scratch buffer to a closure that writes each example's gradient.
///
/// `Sendable`: a plain value holding the running sum.
package struct DPSGD: Sendable {
    /// C, the per-example clip norm.
    package let clipNorm: Double
    /// z, the noise multiplier: the noise std on the sum is `z·C`.
    package let noiseMultiplier: Double
    /// The sum of clipped gradients so far.
    package private(set) var sum: [Float]
    /// Examples accumulated since the last ``finish(expectedBatchSize:using:)``.
    package private(set) var exampleCount = 0
    /// How many of them were clipped.
    package private(set) var clippedCount = 0

    /// - Precondition: `parameterCount >= 0`, `clipNorm > 0`, `noiseMultiplier >= 0`.
    package init(parameterCount: Int, clipNorm: Double, noiseMultiplier: Double) {
        precondition(parameterCount >= 0, "parameter count must be >= 0")
        precondition(clipNorm > 0 && clipNorm.isFinite, "clip norm must be finite and > 0, got \(clipNorm)")
        precondition(noiseMultiplier >= 0 && noiseMultiplier.isFinite, "noise multiplier must be finite and >= 0")
        self.clipNorm = clipNorm
        self.noiseMultiplier = noiseMultiplier
        sum = [Float](repeating: 0, count: parameterCount)
    }

    /// Adds one example's gradient, scaled by `min(1, C/‖g‖)`, to the sum (the gradient
    /// itself is not modified). A non-finite gradient contributes nothing and counts as clipped.
    @discardableResult
    package mutating func accumulateClipped(gradient: UnsafeBufferPointer<Float>) -> L2Clipping.Outcome {
        precondition(gradient.count == sum.count, "gradient has \(gradient.count) entries, expected \(sum.count)")
        let norm = L2Clipping.norm(of: gradient)
        let clipping = L2Clipping(clipNorm: clipNorm)
        let factor = Float(clipping.scaleFactor(forNorm: norm))
        let outcome = L2Clipping.Outcome(normBeforeClipping: norm, wasClipped: !(norm <= clipNorm))
        exampleCount += 1
        if outcome.wasClipped { clippedCount += 1 }
        guard factor > 0, let source = gradient.baseAddress else { return outcome }
        sum.withUnsafeMutableBufferPointer { target in
            for index in target.indices { target[index] += factor * source[index] }
        }
        return outcome
    }

    /// Adds one example's gradient; see ``accumulateClipped(gradient:)-(UnsafeBufferPointer<Float>)``.
    @discardableResult
    package mutating func accumulateClipped(gradient: [Float]) -> L2Clipping.Outcome {
        gradient.withUnsafeBufferPointer { accumulateClipped(gradient: $0) }
    }

    /// The privatized average gradient `(Σ clip(g) + N(0, (zC)²)) / expectedBatchSize`,
    /// after which the accumulator is empty again.
    /// - Precondition: `expectedBatchSize > 0` (it is `q·n`, not the drawn batch size).
    package mutating func finish<G: RandomNumberGenerator>(expectedBatchSize: Double, using generator: inout G)
        -> [Float]
    {
        precondition(expectedBatchSize > 0, "the expected batch size q·n must be > 0")
        var result = sum
        GaussianNoise(standardDeviation: noiseMultiplier * clipNorm).add(to: &result, using: &generator)
        let scale = Float(1 / expectedBatchSize)
        for index in result.indices { result[index] *= scale }
        reset()
        return result
    }

    /// ``finish(expectedBatchSize:using:)`` with noise from a fresh ``SecureRandom``.
    package mutating func finish(expectedBatchSize: Double) throws(PrivacyError) -> [Float] {
        var generator = try SecureRandom()
        return finish(expectedBatchSize: expectedBatchSize, using: &generator)
    }

    /// Empties the sum and the counters.
    package mutating func reset() {
        for index in sum.indices { sum[index] = 0 }
        exampleCount = 0
        clippedCount = 0
    }

    /// One DP-SGD gradient over `examples`: for each, `gradientOf(example, buffer)` writes
    /// that example's gradient into `buffer` (zeroed beforehand, reused across examples, so
    /// nothing is allocated per example); the result is the privatized average.
    package mutating func privatizedGradient<G: RandomNumberGenerator, E: Sequence, Failure: Error>(
        examples: E, expectedBatchSize: Double, using generator: inout G,
        gradientOf: (E.Element, UnsafeMutableBufferPointer<Float>) throws(Failure) -> Void
    ) throws(Failure) -> [Float] {
        var scratch = [Float](repeating: 0, count: sum.count)
        for example in examples {
            try scratch.withUnsafeMutableBufferPointer { (buffer) throws(Failure) -> Void in
                buffer.update(repeating: 0)
                try gradientOf(example, buffer)
                accumulateClipped(gradient: UnsafeBufferPointer(buffer))
            }
        }
        return finish(expectedBatchSize: expectedBatchSize, using: &generator)
    }
}
