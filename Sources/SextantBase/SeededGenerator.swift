/// A fast, seedable generator (xoshiro256**), so that initialisation, shuffles and
/// partitions are reproducible from one integer seed on every platform.
///
/// Not cryptographically secure: differential-privacy noise uses the system generator.
package struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    package init(seed: UInt64) {
        // SplitMix64 expands the seed so that nearby seeds give unrelated streams.
        var x = seed
        func next() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (next(), next(), next(), next())
    }

    package mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotate(state.3, 45)
        return result
    }

    /// A generator for a derived stream (per client, per layer), independent of this one.
    package func derived(_ index: UInt64) -> SeededGenerator {
        var copy = self
        return SeededGenerator(seed: copy.next() ^ (index &* 0xD1B5_4A32_D192_ED03))
    }

    @inline(__always)
    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }
}

extension SeededGenerator: Codable {
    // The state is saved so that a restarted scheduler continues the same random stream.
    package init(from decoder: any Decoder) throws {
        let words = try [UInt64](from: decoder)
        guard words.count == 4, words.contains(where: { $0 != 0 }) else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath, debugDescription: "generator state needs four words, not all zero"))
        }
        state = (words[0], words[1], words[2], words[3])
    }

    package func encode(to encoder: any Encoder) throws {
        try [state.0, state.1, state.2, state.3].encode(to: encoder)
    }
}
