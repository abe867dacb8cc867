/// A seeded xoshiro256** generator so that every statistical test here is reproducible
/// (the noise code is generic over `RandomNumberGenerator` for exactly this).
struct TestGenerator: RandomNumberGenerator {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    init(seed: UInt64) {
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = state.3 << 45 | state.3 >> 19
        return result
    }
}

/// Mean and (population-corrected) standard deviation and kurtosis, accumulated in Double.
struct Moments {
    var count = 0.0
    var sum = 0.0
    var sumSquares = 0.0
    var sumFourth = 0.0

    mutating func add(_ x: Double) {
        count += 1
        sum += x
        sumSquares += x * x
        sumFourth += x * x * x * x
    }

    var mean: Double { sum / count }
    var variance: Double { (sumSquares - sum * sum / count) / (count - 1) }
    var standardDeviation: Double { variance.squareRoot() }
    /// E[x⁴] / E[x²]² for a zero-mean sample (3 for a normal).
    var kurtosisAboutZero: Double { (sumFourth / count) / ((sumSquares / count) * (sumSquares / count)) }
}
