import SextantBase

/// Who shares keys and masks with whom in a cohort.
///
/// `complete` is the protocol of Bonawitz et al. 2017: every member with every other, so a
/// member's cost grows linearly in the cohort. `harary` is SecAgg+ (Bell et al. 2020): the
/// members, in a random order drawn from a public seed, sit on a circle, and each is a
/// neighbour of the `degree / 2` members on either side (the Harary graph `H(n, degree)` under a
/// random permutation), so a member's cost grows with the degree, which can grow like
/// `log n`. A graph with `degree >= n - 1` is complete.
///
/// `Sendable`: a plain value.
package enum CommunicationGraph: Sendable, Equatable, Codable {
    case complete
    case harary(degree: Int, seed: UInt64)

    package func validate(threshold: Int) throws(SecureAggregationError) {
        guard threshold >= 1 else {
            throw SecureAggregationError(.invalidConfiguration, "the threshold must be at least 1, got \(threshold)")
        }
        if case .harary(let degree, _) = self {
            guard degree >= 2, degree % 2 == 0 else {
                throw SecureAggregationError(
                    .invalidConfiguration, "the graph's degree must be even and >= 2, got \(degree)")
            }
            guard threshold <= degree else {
                throw SecureAggregationError(
                    .invalidConfiguration, "the threshold \(threshold) exceeds the graph's degree \(degree)")
            }
        }
    }

    /// The neighbours of every member of `members` (each list sorted).
    package func neighbours(among members: [UInt32]) -> [UInt32: [UInt32]] {
        let sorted = members.sorted()
        switch self {
        case .harary(let degree, let seed) where degree < sorted.count - 1:
            var generator = SeededGenerator(seed: seed)
            let circle = sorted.shuffled(using: &generator)
            let half = degree / 2
            var result: [UInt32: [UInt32]] = [:]
            for (position, member) in circle.enumerated() {
                var around: [UInt32] = []
                for step in 1...half {
                    around.append(circle[(position + step) % circle.count])
                    around.append(circle[(position - step + circle.count) % circle.count])
                }
                result[member] = around.sorted()
            }
            return result
        default:
            var result: [UInt32: [UInt32]] = [:]
            for member in sorted { result[member] = sorted.filter { $0 != member } }
            return result
        }
    }
}
