extension Dataset {
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
        let validationCount = Swift.min(Int((Double(count) * validationFraction).rounded()), Swift.max(count - 1, 0))
        let validation = order.prefix(validationCount).sorted()
        let training = order.dropFirst(validationCount).sorted()
        return (subset(training), subset(validation))
    }
}
