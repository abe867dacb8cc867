import Foundation

/// Turns a float update into a vector of the ring Z_{2^b} and a sum of such vectors back into
/// floats (docs/secure-aggregation.md, "Quantisation").
///
/// Encoding clips the update to L2 norm `C`, multiplies it by the scale `s`, rounds each
/// coordinate to one of its two neighbouring integers at random so that the expectation is
/// the scaled value (unbiased), and wraps it into the ring. With conditional rounding the
/// rounding is repeated until the rounded vector's norm is within ``roundedNormBound``,
/// which bounds the sensitivity that distributed DP is accounted for (Kairouz, Liu and
/// Steinke 2021).
///
/// The scale is the largest at which the sum of `maxMembers` encoded updates, plus the
/// reserved noise range, cannot leave `(-2^(b-1), 2^(b-1))` in any coordinate, so the
/// modular sum decodes to the true integer sum: every coordinate of an encoded update is
/// at most `s C + 1` in magnitude, and `n (s C + 1) + k σ sqrt(n) <= 2^(b-1) - 1`.
///
/// `Sendable`: a plain value.
package struct RingQuantizer: Sendable, Equatable {
    /// The quantiser's parameters; the defaults are a 32-bit ring and no noise range.
    package struct Configuration: Sendable, Equatable {
        /// Bits of the ring, 2 to 32: values live in `Z_{2^bits}`, four bytes each on the wire.
        package var bits: Int = 32
        /// The L2 norm each update is clipped to before scaling, in the update's units.
        package var clipNorm: Double
        /// The most members whose encoded updates are summed in one ring.
        package var maxMembers: Int
        /// Per-member standard deviation of integer noise that will be added after encoding,
        /// in units of the update (so `noiseStandardDeviation * scale` in ring units); 0: none.
        package var noiseStandardDeviation: Double = 0
        /// How many standard deviations of the summed noise the ring reserves.
        package var noiseTailBound: Double = 8
        /// Conditional rounding's failure probability β (Kairouz, Liu and Steinke 2021); nil
        /// rounds once, and the rounded norm is then bounded by `s C + sqrt(d)` only.
        package var conditionalRoundingBeta: Double? = 0.6065306597126334  // e^{-1/2}

        package init(
            bits: Int = 32, clipNorm: Double, maxMembers: Int, noiseStandardDeviation: Double = 0,
            noiseTailBound: Double = 8, conditionalRoundingBeta: Double? = 0.6065306597126334
        ) {
            self.bits = bits
            self.clipNorm = clipNorm
            self.maxMembers = maxMembers
            self.noiseStandardDeviation = noiseStandardDeviation
            self.noiseTailBound = noiseTailBound
            self.conditionalRoundingBeta = conditionalRoundingBeta
        }
    }

    package let configuration: Configuration
    package let dimension: Int
    /// Ring units per unit of the update.
    package let scale: Double
    /// `2^bits - 1`: the ring's values are the integers under this mask.
    package let mask: UInt32

    /// How many times conditional rounding tries before it gives up (each try succeeds with
    /// probability at least 1 - β).
    static let roundingAttempts = 1000

    package init(configuration: Configuration, dimension: Int) throws(SecureAggregationError) {
        let c = configuration
        guard (2...32).contains(c.bits) else {
            throw SecureAggregationError(.invalidConfiguration, "ring bits must be 2 to 32, got \(c.bits)")
        }
        guard c.clipNorm > 0, c.clipNorm.isFinite else {
            throw SecureAggregationError(.invalidConfiguration, "clip norm must be positive, got \(c.clipNorm)")
        }
        guard c.maxMembers >= 1 else {
            throw SecureAggregationError(.invalidConfiguration, "max members must be at least 1, got \(c.maxMembers)")
        }
        guard dimension >= 1 else {
            throw SecureAggregationError(.invalidConfiguration, "dimension must be at least 1, got \(dimension)")
        }
        guard c.noiseStandardDeviation >= 0, c.noiseTailBound >= 0 else {
            throw SecureAggregationError(.invalidConfiguration, "noise standard deviation and tail bound must be >= 0")
        }
        if let beta = c.conditionalRoundingBeta, !(beta > 0 && beta < 1) {
            throw SecureAggregationError(
                .invalidConfiguration, "conditional rounding beta must be in (0, 1), got \(beta)")
        }
        let n = Double(c.maxMembers)
        let range = Double((UInt64(1) << (c.bits - 1)) - 1)
        // n (s C + 1) + k σ s sqrt(n) <= range, with a relative margin for the floating point.
        let scale =
            (range - n) / (n * c.clipNorm + c.noiseTailBound * c.noiseStandardDeviation * n.squareRoot())
            * (1 - 1e-9)
        guard scale > 0, scale.isFinite else {
            throw SecureAggregationError(
                .invalidConfiguration,
                "a \(c.bits)-bit ring cannot hold the sum of \(c.maxMembers) members: use more bits or fewer members")
        }
        self.configuration = c
        self.dimension = dimension
        self.scale = scale
        self.mask = Self.mask(bits: c.bits)
    }

    /// `2^bits - 1`, for bits 1 to 32: reduces a 32-bit word into `Z_{2^bits}`.
    package static func mask(bits: Int) -> UInt32 {
        bits >= 32 ? .max : (UInt32(1) << bits) - 1
    }

    /// The bound on the L2 norm of an encoded (rounded, unwrapped) update, in ring units:
    /// the L2 sensitivity of one member's contribution to the integer sum.
    package var roundedNormBound: Double {
        let sc = scale * configuration.clipNorm
        let d = Double(dimension)
        let plain = sc + d.squareRoot()
        guard let beta = configuration.conditionalRoundingBeta else { return plain }
        let conditional = (sc * sc + d / 4 + (2 * log(1 / beta)).squareRoot() * (sc + d.squareRoot() / 2)).squareRoot()
        return min(plain, conditional)
    }

    /// The largest difference, per coordinate, between the decoded sum of `members` encoded
    /// updates (without noise) and the sum of the clipped float updates: each rounding moves
    /// a coordinate by less than one ring unit, so the sum moves by less than `members / s`.
    package func sumErrorBound(members: Int) -> Double {
        Double(members) / scale
    }

    /// A bound on the probability that the summed noise of `members` members wraps some
    /// coordinate: the sum of independent discrete Gaussians of variance `σ²` each is
    /// sub-Gaussian with variance proxy `members σ²` (Canonne, Kamath and Steinke 2020), so
    /// one coordinate exceeds `k σ sqrt(members)` with probability at most `2 e^{-k²/2}`;
    /// union over the coordinates.
    package var noiseWrapProbabilityBound: Double {
        guard configuration.noiseStandardDeviation > 0 else { return 0 }
        let k = configuration.noiseTailBound
        return min(1, Double(dimension) * 2 * exp(-k * k / 2))
    }

    /// Encodes one update into the ring.
    package func encode(
        _ update: UnsafeBufferPointer<Float>, using generator: inout some RandomNumberGenerator
    ) throws(SecureAggregationError) -> [UInt32] {
        guard update.count == dimension else {
            throw SecureAggregationError(
                .invalidConfiguration, "an update of \(update.count) values for a quantiser of \(dimension)")
        }
        var squared = 0.0
        for value in update {
            guard value.isFinite else {
                throw SecureAggregationError(.invalidConfiguration, "an update holds a value that is not finite")
            }
            squared += Double(value) * Double(value)
        }
        let norm = squared.squareRoot()
        let factor = scale * (norm > configuration.clipNorm ? configuration.clipNorm / norm : 1)
        let bound = roundedNormBound
        var rounded = [Int64](repeating: 0, count: dimension)
        for _ in 0..<Self.roundingAttempts {
            var roundedSquared = 0.0
            for index in 0..<dimension {
                let x = Double(update[index]) * factor
                let low = x.rounded(.down)
                let up = Double(generator.next() >> 11) * 0x1p-53 < x - low
                let value = Int64(low) + (up ? 1 : 0)
                rounded[index] = value
                roundedSquared += Double(value) * Double(value)
            }
            if configuration.conditionalRoundingBeta == nil || roundedSquared.squareRoot() <= bound {
                return rounded.map { UInt32(truncatingIfNeeded: $0) & mask }
            }
        }
        throw SecureAggregationError(
            .invalidConfiguration, "conditional rounding failed \(Self.roundingAttempts) times: beta is too small")
    }

    /// Decodes a ring sum of encoded updates: each coordinate read as a signed integer in
    /// `[-2^(b-1), 2^(b-1))` and divided by the scale.
    package func decode(sum: [UInt32]) throws(SecureAggregationError) -> [Double] {
        guard sum.count == dimension else {
            throw SecureAggregationError(
                .invalidConfiguration, "a sum of \(sum.count) values for a quantiser of \(dimension)")
        }
        let modulus = Int64(1) << configuration.bits
        let half = modulus / 2
        return sum.map { value in
            var signed = Int64(value & mask)
            if signed >= half { signed -= modulus }
            return Double(signed) / scale
        }
    }
}
