import SextantPrivacy
import SextantRuntime
import SextantWire

/// A client's part of client-level DP: clip the finished delta to the assignment's C and,
/// when the server asked for client-side noise, add this client's share of it.
///
/// The assignment carries C in `clipNorm` (0: no clipping, privacy is off) and the share's
/// multiplier in `noiseMultiplier` (0: the server adds the noise); the share is
/// `N(0, (noiseMultiplier · C)²)` per coordinate, from the OS's secure generator in
/// production. The norm before clipping and the clipped flag go into the Update message;
/// the server derives the adaptive-clipping bit from them.
///
/// `Sendable`: a plain value.
package struct ClientUpdatePrivacy: Sendable, Equatable {
    /// C; 0 means no clipping.
    package var clipNorm: Double
    /// The multiplier of this client's noise share; 0 means none.
    package var noiseMultiplier: Double

    /// What to put in the Update message.
    ///
    /// `Sendable`: a plain value.
    package struct Outcome: Sendable, Equatable {
        /// ‖Δ‖ before clipping; `Double.greatestFiniteMagnitude` for a delta with NaN or
        /// infinite entries (which is zeroed), so that the message stays valid.
        package var normBeforeClip: Double
        package var clipped: Bool
    }

    package init(clipNorm: Double, noiseMultiplier: Double = 0) {
        self.clipNorm = clipNorm
        self.noiseMultiplier = noiseMultiplier
    }

    /// The settings of an assignment.
    package init(assignment: AssignmentMessage) {
        self.init(clipNorm: Double(assignment.clipNorm), noiseMultiplier: Double(assignment.noiseMultiplier))
    }

    /// True when the assignment asks for anything.
    package var isActive: Bool { clipNorm > 0 }

    /// Clips `delta` in place and adds the noise share.
    package func apply<G: RandomNumberGenerator>(to delta: UnsafeMutableBufferPointer<Float>, using generator: inout G)
        -> Outcome
    {
        guard clipNorm > 0, clipNorm.isFinite else {
            let norm = L2Clipping.norm(of: UnsafeBufferPointer(delta))
            return Outcome(normBeforeClip: norm.isFinite ? norm : .greatestFiniteMagnitude, clipped: false)
        }
        let outcome = L2Clipping(clipNorm: clipNorm).clip(delta)
        if noiseMultiplier > 0 {
            GaussianNoise(standardDeviation: noiseMultiplier * clipNorm).add(to: delta, using: &generator)
        }
        let norm = outcome.normBeforeClipping
        return Outcome(normBeforeClip: norm.isFinite ? norm : .greatestFiniteMagnitude, clipped: outcome.wasClipped)
    }

    /// Clips `delta` and adds the noise share.
    package func apply<G: RandomNumberGenerator>(to delta: inout [Float], using generator: inout G) -> Outcome {
        delta.withUnsafeMutableBufferPointer { apply(to: $0, using: &generator) }
    }

    /// Clips `delta` and adds the noise share from the OS's secure generator.
    package func apply(to delta: inout [Float]) throws(PrivacyError) -> Outcome {
        var generator = try SecureRandom()
        return apply(to: &delta, using: &generator)
    }
}
