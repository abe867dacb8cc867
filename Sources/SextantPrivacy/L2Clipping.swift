import Foundation

/// Clips a flat vector to L2 norm at most `C`: `x · min(1, C / ‖x‖)`.
///
/// Clipping bounds each contribution's sensitivity, which is what the Gaussian noise is
/// calibrated to. The norm is accumulated in Double (four partial sums, so the loop
/// vectorizes) because a Float sum of millions of squares loses the low digits that decide
/// whether a vector sits just above or below `C`.
///
/// After scaling, the Float result can exceed `C` by the rounding of the scale factor and of
/// each product: at most a relative `2·2⁻²⁴ ≈ 1.2e-7` (plus the Double norm's own error).
///
/// A vector with a NaN or infinite entry cannot be bounded; it is zeroed and reported as
/// clipped, so one broken client cannot break the sensitivity bound of the aggregate.
///
/// `Sendable`: a plain value.
package struct L2Clipping: Sendable, Equatable {
    /// What clipping did to one vector.
    ///
    /// `Sendable`: a plain value.
    package struct Outcome: Sendable, Equatable {
        /// ‖x‖ before clipping (NaN or infinity for a vector that was zeroed).
        package var normBeforeClipping: Double
        /// True when the vector was scaled down (norm > C) or zeroed.
        package var wasClipped: Bool

        package init(normBeforeClipping: Double, wasClipped: Bool) {
            self.normBeforeClipping = normBeforeClipping
            self.wasClipped = wasClipped
        }
    }

    /// C, the bound on the L2 norm.
    package var clipNorm: Double

    /// - Precondition: `clipNorm > 0` and finite.
    package init(clipNorm: Double) {
        precondition(clipNorm > 0 && clipNorm.isFinite, "clip norm must be finite and > 0, got \(clipNorm)")
        self.clipNorm = clipNorm
    }

    /// Clips `values` in place.
    @discardableResult
    package func clip(_ values: UnsafeMutableBufferPointer<Float>) -> Outcome {
        let norm = Self.norm(of: UnsafeBufferPointer(values))
        guard norm.isFinite else {
            values.update(repeating: 0)
            return Outcome(normBeforeClipping: norm, wasClipped: true)
        }
        guard norm > clipNorm else { return Outcome(normBeforeClipping: norm, wasClipped: false) }
        Self.scale(values, by: Float(clipNorm / norm))
        return Outcome(normBeforeClipping: norm, wasClipped: true)
    }

    /// Clips `values` in place.
    @discardableResult
    package func clip(_ values: inout [Float]) -> Outcome {
        values.withUnsafeMutableBufferPointer { clip($0) }
    }

    /// The scale `min(1, C / ‖x‖)` that clipping would apply (0 for a non-finite norm).
    package func scaleFactor(forNorm norm: Double) -> Double {
        guard norm.isFinite else { return 0 }
        return norm > clipNorm ? clipNorm / norm : 1
    }

    /// ‖x‖₂ accumulated in Double.
    package static func norm(of values: UnsafeBufferPointer<Float>) -> Double {
        squaredNorm(of: values).squareRoot()
    }

    /// ‖x‖₂ accumulated in Double.
    package static func norm(of values: [Float]) -> Double {
        values.withUnsafeBufferPointer { norm(of: $0) }
    }

    static func squaredNorm(of values: UnsafeBufferPointer<Float>) -> Double {
        guard let base = values.baseAddress else { return 0 }
        let count = values.count
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var index = 0
        while index + 4 <= count {
            let a = Double(base[index]), b = Double(base[index + 1])
            let c = Double(base[index + 2]), d = Double(base[index + 3])
            s0 += a * a
            s1 += b * b
            s2 += c * c
            s3 += d * d
            index += 4
        }
        while index < count {
            let a = Double(base[index])
            s0 += a * a
            index += 1
        }
        return (s0 + s1) + (s2 + s3)
    }

    static func scale(_ values: UnsafeMutableBufferPointer<Float>, by factor: Float) {
        for index in values.indices { values[index] *= factor }
    }
}
