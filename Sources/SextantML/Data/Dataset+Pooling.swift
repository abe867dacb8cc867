extension Dataset {
    /// The records of `parts` one after another (sites' data pooled for centralised training).
    /// Every part must have the same shape and classes.
    package static func pooled(_ parts: [Dataset]) throws -> Dataset {
        guard let first = parts.first else {
            throw SextantMLError(code: .invalidArgument, "no datasets to pool")
        }
        for part in parts.dropFirst()
        where part.shape != first.shape || part.classCount != first.classCount
            || (part.targets == nil) != (first.targets == nil)
        {
            throw SextantMLError(
                code: .invalidArgument,
                "cannot pool records of shape \(part.shape) (\(part.classCount) classes) with \(first.shape) (\(first.classCount) classes)"
            )
        }
        let targets = first.targets == nil ? nil : parts.flatMap { $0.targets! }
        return Dataset(
            shape: first.shape, classCount: first.classCount, features: parts.flatMap(\.features),
            labels: parts.flatMap(\.labels), targets: targets)
    }
}
