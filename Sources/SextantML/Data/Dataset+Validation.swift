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

    /// The seed of a site's validation share: the client's seed and its name (FNV-1a), so
    /// that the same site always holds out the same records, and `sextant train` on the same
    /// files holds out those records too.
    package static func validationSeed(clientSeed: UInt64, name: String) -> UInt64 {
        var nameHash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { nameHash = (nameHash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return clientSeed ^ nameHash
    }
}
