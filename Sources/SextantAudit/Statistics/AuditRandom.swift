import SextantML

/// The audit's seeded randomness (bootstrap resamples, choice of known subjects), a thin
/// wrapper over SextantML's ``SeededGenerator`` so that results repeat across platforms.
struct AuditRandom: RandomNumberGenerator {
    private var generator: SeededGenerator

    init(seed: UInt64) {
        generator = SeededGenerator(seed: seed)
    }

    mutating func next() -> UInt64 {
        generator.next()
    }

    /// A uniform index in 0..<bound, without modulo bias.
    mutating func nextIndex(below bound: Int) -> Int {
        Int.random(in: 0..<bound, using: &generator)
    }
}
