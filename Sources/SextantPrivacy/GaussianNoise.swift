import Foundation

/// Adds independent `N(0, σ²)` noise to every coordinate of a flat Float vector.
///
/// Normals come from Marsaglia's polar method in Double (two normals per accepted pair of
/// 53-bit uniforms, no trigonometry; 21% of pairs are rejected) and are rounded to Float
/// only when added, so the noise has the distribution's full tail up to about 8.5σ
/// rather than whatever a Float uniform would allow.
///
/// Production noise should come from ``SecureRandom``; the generic `using:` forms exist so
/// tests can pass a seeded generator and get reproducible results.
///
/// Floating-point caveat (Mironov 2012): the low bits of a Float sum can, in principle,
/// reveal something about the unnoised value. The accountant does not model this.
///
/// `Sendable`: a plain value.
package struct GaussianNoise: Sendable, Equatable {
    /// σ, the standard deviation added to each coordinate.
    package var standardDeviation: Double

    /// - Precondition: `standardDeviation >= 0` and finite.
    package init(standardDeviation: Double) {
        precondition(
            standardDeviation >= 0 && standardDeviation.isFinite, "noise standard deviation must be finite and >= 0")
        self.standardDeviation = standardDeviation
    }

    /// Adds noise to every element of `values`, drawing from `generator`.
    @inlinable
    package func add<G: RandomNumberGenerator>(to values: UnsafeMutableBufferPointer<Float>, using generator: inout G) {
        guard standardDeviation > 0, let base = values.baseAddress else { return }
        let count = values.count
        var index = 0
        while index + 1 < count {
            let (first, second) = Self.normalPair(using: &generator)
            base[index] += Float(first * standardDeviation)
            base[index + 1] += Float(second * standardDeviation)
            index += 2
        }
        if index < count {
            base[index] += Float(Self.normalPair(using: &generator).0 * standardDeviation)
        }
    }

    /// Adds noise to every element of `values`, drawing from `generator`.
    @inlinable
    package func add<G: RandomNumberGenerator>(to values: inout [Float], using generator: inout G) {
        values.withUnsafeMutableBufferPointer { add(to: $0, using: &generator) }
    }

    /// Adds noise to every element of `values` from a fresh ``SecureRandom``.
    package func add(to values: UnsafeMutableBufferPointer<Float>) throws(PrivacyError) {
        var generator = try SecureRandom()
        add(to: values, using: &generator)
    }

    /// Adds noise to every element of `values` from a fresh ``SecureRandom``.
    package func add(to values: inout [Float]) throws(PrivacyError) {
        var generator = try SecureRandom()
        add(to: &values, using: &generator)
    }

    /// Two independent standard normals (Marsaglia's polar method).
    @inlinable
    package static func normalPair<G: RandomNumberGenerator>(using generator: inout G) -> (Double, Double) {
        while true {
            let u = Self.symmetricUniform(generator.next())
            let v = Self.symmetricUniform(generator.next())
            let s = u * u + v * v
            if s < 1 && s > 0 {
                let scale = (-2 * log(s) / s).squareRoot()
                return (u * scale, v * scale)
            }
        }
    }

    /// One standard normal.
    @inlinable
    package static func normal<G: RandomNumberGenerator>(using generator: inout G) -> Double {
        normalPair(using: &generator).0
    }

    /// A uniform on (-1, 1) from the top 53 bits (midpoints of 2^53 equal cells, never ±1 or 0).
    @inlinable
    static func symmetricUniform(_ bits: UInt64) -> Double {
        (Double(bits >> 11) + 0.5) * 0x1p-52 - 1
    }
}
