import Foundation

/// Splits a dataset's examples among clients: IID, or one of the two non-IID schemes of
/// the FedCompass experiments (see docs/design.md 5.3). Every example goes to exactly one client.
package enum Partitioner: Sendable, Equatable {
    /// Uniformly shuffled, equal shares.
    case iid
    /// Each client holds a few classes; each class is split among its holders in
    /// proportion to draws of |N(10, 3)|.
    case classes
    /// Client sizes from Dir(alpha1 / m per client), class mixes from Dir(alpha2 * class frequencies).
    case dualDirichlet(alpha1: Double?, alpha2: Double)

    package static let dualDirichletDefault = Partitioner.dualDirichlet(alpha1: nil, alpha2: 0.5)

    /// Parses `iid`, `class` or `dual-dirichlet`.
    package init(name: String, alpha1: Double? = nil, alpha2: Double = 0.5) throws {
        switch name.lowercased() {
        case "iid": self = .iid
        case "class", "classes": self = .classes
        case "dual-dirichlet", "dirichlet": self = .dualDirichlet(alpha1: alpha1, alpha2: alpha2)
        default:
            throw SextantMLError(
                code: .invalidArgument, "unknown partition '\(name)'; use iid, class or dual-dirichlet")
        }
    }

    /// The range of class counts per client for `clients` clients, as in the paper.
    package static func classCountRange(clients: Int) -> ClosedRange<Int> {
        switch clients {
        case 1: 10...10
        case 2: 7...8
        case 3: 6...8
        case 4: 5...7
        case 5: 5...6
        case 6: 4...6
        case 7: 4...5
        default: 3...5
        }
    }

    package func split(labels: [Int32], classCount: Int, clients: Int, seed: UInt64) throws -> Partition {
        guard clients > 0 else { throw SextantMLError(code: .invalidArgument, "number of clients must be positive") }
        guard labels.count >= clients else {
            throw SextantMLError(
                code: .invalidArgument, "\(labels.count) examples cannot be split among \(clients) clients")
        }
        var generator = SeededGenerator(seed: seed)
        var byClass = [[Int]](repeating: [], count: classCount)
        for (index, label) in labels.enumerated() {
            guard label >= 0, Int(label) < classCount else {
                throw SextantMLError(
                    code: .invalidArgument, "label \(label) of example \(index) is outside 0..<\(classCount)")
            }
            byClass[Int(label)].append(index)
        }
        for c in byClass.indices { byClass[c].shuffle(using: &generator) }

        switch self {
        case .iid:
            var order = Array(labels.indices)
            order.shuffle(using: &generator)
            let shares = [Double](repeating: 1, count: clients)
            let counts = Self.apportion(order.count, weights: shares)
            var assignment: [[Int]] = []
            var start = 0
            for count in counts {
                assignment.append(Array(order[start..<(start + count)]))
                start += count
            }
            return Partition(clients: assignment, classShares: nil)

        case .classes:
            let range = Self.classCountRange(clients: clients)
            let present = byClass.indices.filter { !byClass[$0].isEmpty }
            let lower = min(range.lowerBound, present.count)
            let upper = min(range.upperBound, present.count)
            var held: [[Int]]
            repeat {
                held = (0..<clients).map { _ in
                    let k = Int.random(in: lower...upper, using: &generator)
                    return Array(present.shuffled(using: &generator).prefix(k))
                }
            } while Set(held.joined()).count < present.count
            var shares = [[Double]](repeating: [Double](repeating: 0, count: clients), count: classCount)
            for c in present {
                for client in 0..<clients where held[client].contains(c) {
                    shares[c][client] = abs(generator.nextNormal(mean: 10, standardDeviation: 3))
                }
            }
            return Self.assign(byClass: byClass, shares: shares, clients: clients)

        case .dualDirichlet(let alpha1, let alpha2):
            let a1 = alpha1 ?? Double(clients)
            guard a1 > 0, alpha2 > 0 else {
                throw SextantMLError(
                    code: .invalidArgument, "Dirichlet concentrations must be positive (alpha1 \(a1), alpha2 \(alpha2))"
                )
            }
            let frequencies = byClass.map { Double($0.count) / Double(labels.count) }
            let clientWeights = generator.nextDirichlet([Double](repeating: a1 / Double(clients), count: clients))
            let mixes = (0..<clients).map { _ in
                generator.nextDirichlet(frequencies.map { max($0 * alpha2, 1e-6) })
            }
            var shares = [[Double]](repeating: [Double](repeating: 0, count: clients), count: classCount)
            for c in 0..<classCount {
                for client in 0..<clients { shares[c][client] = clientWeights[client] * mixes[client][c] }
                if shares[c].reduce(0, +) <= 0 { shares[c] = clientWeights }
            }
            return Self.assign(byClass: byClass, shares: shares, clients: clients)
        }
    }

    /// Splits each class's (shuffled) examples among clients in proportion to `shares[class]`.
    private static func assign(byClass: [[Int]], shares: [[Double]], clients: Int) -> Partition {
        var assignment = [[Int]](repeating: [], count: clients)
        var normalised = shares
        for c in byClass.indices {
            let total = shares[c].reduce(0, +)
            normalised[c] = total > 0 ? shares[c].map { $0 / total } : shares[c]
            guard total > 0 else { continue }
            let counts = apportion(byClass[c].count, weights: shares[c])
            var start = 0
            for (client, count) in counts.enumerated() {
                assignment[client].append(contentsOf: byClass[c][start..<(start + count)])
                start += count
            }
        }
        return Partition(clients: assignment, classShares: normalised)
    }

    /// Integer counts summing to `total`, proportional to `weights` (largest remainders).
    static func apportion(_ total: Int, weights: [Double]) -> [Int] {
        let sum = weights.reduce(0, +)
        let exact = weights.map { Double(total) * $0 / sum }
        var counts = exact.map { Int($0.rounded(.down)) }
        let order = exact.indices.sorted { (exact[$0] - Double(counts[$0])) > (exact[$1] - Double(counts[$1])) }
        for i in 0..<(total - counts.reduce(0, +)) { counts[order[i % order.count]] += 1 }
        return counts
    }
}

/// The result of a ``Partitioner``: the example indices of each client.
package struct Partition: Sendable {
    package var clients: [[Int]]
    /// For the non-IID schemes, `classShares[class][client]`: the fraction of that class
    /// the definition gives to that client.
    package var classShares: [[Double]]?

    /// Samples and class histogram per client, as a text table.
    package func summary(labels: [Int32], classCount: Int) -> String {
        var lines = ["client  samples  " + (0..<classCount).map { String(format: "%6d", $0) }.joined()]
        for (client, indices) in clients.enumerated() {
            var histogram = [Int](repeating: 0, count: classCount)
            for index in indices { histogram[Int(labels[index])] += 1 }
            lines.append(
                String(format: "%6d  %7d  ", client, indices.count)
                    + histogram.map { String(format: "%6d", $0) }.joined())
        }
        return lines.joined(separator: "\n")
    }
}
