import Foundation

/// Poisson sampling for DP-SGD: each of `n` examples joins a batch independently with
/// probability `q`, so batch sizes vary around `q·n`.
///
/// The amplification-by-sampling analysis of the accountant assumes exactly this; a
/// shuffled fixed-size batch is a different mechanism. Indices are drawn by geometric
/// skipping (the gap to the next chosen index is `floor(ln U / ln(1 - q))`), which costs
/// one uniform per *selected* example instead of one per example.
///
/// `Sendable`: a plain value.
package struct PoissonSampler: Sendable, Equatable {
    /// q, the inclusion probability.
    package let sampleRate: Double
    /// n, the number of examples.
    package let populationSize: Int

    /// - Precondition: `0 <= sampleRate <= 1`, `populationSize >= 0`.
    package init(sampleRate: Double, populationSize: Int) {
        precondition(sampleRate >= 0 && sampleRate <= 1, "sampling rate must be in [0, 1], got \(sampleRate)")
        precondition(populationSize >= 0, "population size must be >= 0")
        self.sampleRate = sampleRate
        self.populationSize = populationSize
    }

    /// A sampler with `q = batchSize / n`.
    package init(expectedBatchSize: Int, populationSize: Int) {
        precondition(
            populationSize > 0 && expectedBatchSize >= 0 && expectedBatchSize <= populationSize,
            "expected batch size must be in [0, n] with n > 0")
        self.init(sampleRate: Double(expectedBatchSize) / Double(populationSize), populationSize: populationSize)
    }

    /// `q·n`, what DP-SGD divides by.
    package var expectedBatchSize: Double { sampleRate * Double(populationSize) }

    /// One batch: the chosen indices in increasing order.
    package func sample<G: RandomNumberGenerator>(using generator: inout G) -> [Int] {
        if sampleRate == 0 || populationSize == 0 { return [] }
        if sampleRate == 1 { return Array(0..<populationSize) }
        let logMiss = log1p(-sampleRate)
        var chosen: [Int] = []
        chosen.reserveCapacity(Int(expectedBatchSize * 1.2) + 16)
        var index = -1
        while true {
            let uniform = (Double(generator.next() >> 11) + 0.5) * 0x1p-53  // in (0, 1)
            let gap = (log(uniform) / logMiss).rounded(.down)
            guard gap < Double(populationSize) else { break }
            index += 1 + Int(gap)
            guard index < populationSize else { break }
            chosen.append(index)
        }
        return chosen
    }

    /// One batch drawn with a fresh ``SecureRandom``.
    package func sample() throws(PrivacyError) -> [Int] {
        var generator = try SecureRandom()
        return sample(using: &generator)
    }
}
