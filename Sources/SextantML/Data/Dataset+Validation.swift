extension Dataset {
    /// How many of `count` records a validation share of `fraction` holds out: rounded
    /// down, and never all of them.
    package static func validationCount(of count: Int, fraction: Double) -> Int {
        guard fraction > 0, count > 1 else { return 0 }
        return min(Int((fraction * Double(count)).rounded(.down)), count - 1)
    }

    /// Splits off a seeded share of the records for validation: each site keeps
    /// ``validationCount(of:fraction:)`` records out of training and evaluates global models
    /// on them. The same seed always gives the same split.
    package func splittingValidation(fraction: Double, seed: UInt64) -> (train: Dataset, validation: Dataset) {
        let held = Self.validationCount(of: count, fraction: fraction)
        guard held > 0 else { return (self, subset(0..<0)) }
        var generator = SeededGenerator(seed: seed)
        let order = Array(0..<count).shuffled(using: &generator)
        return (subset(order[held...].sorted()), subset(order[..<held].sorted()))
    }
}
