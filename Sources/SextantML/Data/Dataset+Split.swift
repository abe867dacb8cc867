extension Dataset {
    /// How many of `count` records a validation share of `fraction` sets aside: rounded, and
    /// at least one record stays for training.
    package static func validationCount(of count: Int, fraction: Double) -> Int {
        Swift.min(Int((Double(count) * fraction).rounded()), Swift.max(count - 1, 0))
    }

    /// A seeded random share of the records set aside for validation: `validationFraction`
    /// of them (rounded; at least one record stays for training), the rest for training.
    /// The same seed and data give the same split on every platform.
    package func split(validationFraction: Double, seed: UInt64) throws -> (training: Dataset, validation: Dataset) {
        guard validationFraction >= 0, validationFraction < 1 else {
            throw SextantMLError(
                code: .invalidArgument, "the validation fraction is \(validationFraction); it must lie in [0, 1)")
        }
        var order = Array(0..<count)
        var generator = SeededGenerator(seed: seed ^ 0x5EED_5B11_7000_0001)
        order.shuffle(using: &generator)
        let validationCount = Self.validationCount(of: count, fraction: validationFraction)
        let validation = order.prefix(validationCount).sorted()
        let training = order.dropFirst(validationCount).sorted()
        return (subset(training), subset(validation))
    }
}

extension Dataset {
    /// The records of `parts` one after another (sites' data pooled for centralised training).
    /// Every part must have the same shape and classes.
    package static func pooled(_ parts: [Dataset]) throws -> Dataset {
        guard let first = parts.first else {
            throw SextantMLError(code: .invalidArgument, "no datasets to pool")
        }
        for part in parts.dropFirst()
        where part.shape != first.shape || part.classCount != first.classCount
            || (part.targets == nil) != (first.targets == nil) || part.targetTransform != first.targetTransform
        {
            throw SextantMLError(
                code: .invalidArgument,
                "cannot pool records of shape \(part.shape) (\(part.classCount) classes) with \(first.shape) (\(first.classCount) classes)"
            )
        }
        let targets = first.targets == nil ? nil : parts.flatMap { $0.targets! }
        var pooled = Dataset(
            shape: first.shape, classCount: first.classCount, features: parts.flatMap(\.features),
            labels: parts.flatMap(\.labels), targets: targets)
        pooled.targetTransform = first.targetTransform
        return pooled
    }
}
