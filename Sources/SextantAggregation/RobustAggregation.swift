/// How an aggregation combines its updates when some clients may send harmful ones
/// (docs/design.md 3). With ``mean`` the core sums each delta into its bucket as it
/// arrives; the rules that compare updates with each other (``median``, ``trimmedMean``,
/// ``multiKrum``) keep each delta until the aggregation, then replace the weighted sum
/// `sum_i c_i delta_i` by `(sum_i c_i) * rule(delta_1, ..., delta_n)`, so the step keeps
/// the scheduler's overall scale and staleness discount. ``normBound`` works one update at
/// a time and so also under FedAsync.
///
/// `Sendable`, `Codable`: a plain value, saved in the configuration.
package enum RobustAggregation: Sendable, Equatable, Codable {
    /// The weighted mean the schedulers define: every update counts.
    case mean
    /// Each delta is scaled down to `factor` times the median norm of the last `window`
    /// accepted updates (no bound until `minimumHistory` norms are known).
    case normBound(factor: Double, window: Int, minimumHistory: Int)
    /// The coordinate-wise median of the event's deltas (Yin et al. 2018).
    case median
    /// The coordinate-wise mean after dropping the `fraction` largest and smallest values
    /// of each coordinate (Yin et al. 2018).
    case trimmedMean(fraction: Double)
    /// The mean of the `n - byzantine` deltas with the lowest Krum scores, each scored by
    /// the squared distances to its `n - byzantine - 2` nearest others (Blanchard et al. 2017).
    case multiKrum(byzantine: Int)

    /// Whether the rule needs every delta of an event at once.
    package var needsWholeEvent: Bool {
        switch self {
        case .mean, .normBound: false
        case .median, .trimmedMean, .multiKrum: true
        }
    }

    package var name: String {
        switch self {
        case .mean: "mean"
        case .normBound: "norm_bound"
        case .median: "median"
        case .trimmedMean: "trimmed_mean"
        case .multiKrum: "multi_krum"
        }
    }

    /// Combines `deltas` (each `parameterCount` values) into `output` by the rule; `mean`
    /// and `normBound` give the plain mean here.
    package func combine(_ deltas: [any DeltaBuffer], into output: UnsafeMutableBufferPointer<Float>) {
        let n = deltas.count
        guard n > 0 else {
            output.update(repeating: 0)
            return
        }
        switch self {
        case .mean, .normBound:
            Self.mean(of: deltas, indices: Array(0..<n), into: output)
        case .median:
            Self.coordinatewise(deltas, into: output) { column in
                column.sort()
                let middle = column.count / 2
                return column.count % 2 == 1 ? column[middle] : (column[middle - 1] + column[middle]) / 2
            }
        case .trimmedMean(let fraction):
            let trim = min(Int((fraction * Double(n)).rounded(.down)), (n - 1) / 2)
            Self.coordinatewise(deltas, into: output) { column in
                column.sort()
                var sum: Float = 0
                for index in trim..<(column.count - trim) { sum += column[index] }
                return sum / Float(column.count - 2 * trim)
            }
        case .multiKrum(let byzantine):
            Self.mean(of: deltas, indices: Self.krumSelection(deltas, byzantine: byzantine), into: output)
        }
    }

    /// The indices multi-Krum keeps: the `n - f` lowest scores, where a delta's score is the
    /// sum of its squared distances to its `n - f - 2` nearest neighbours (at least 1).
    package static func krumSelection(_ deltas: [any DeltaBuffer], byzantine f: Int) -> [Int] {
        let n = deltas.count
        guard n > 2 else { return Array(0..<n) }
        var distances = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            for j in (i + 1)..<n {
                let d = deltas[i].withFloats { a in deltas[j].withFloats { b in squaredDistance(a, b) } }
                distances[i][j] = d
                distances[j][i] = d
            }
        }
        let neighbours = max(1, n - f - 2)
        let scores = (0..<n).map { i in
            distances[i].enumerated().filter { $0.offset != i }.map(\.element).sorted().prefix(neighbours).reduce(0, +)
        }
        let keep = max(1, n - f)
        return (0..<n).sorted { (scores[$0], $0) < (scores[$1], $1) }.prefix(keep).sorted()
    }

    private static func squaredDistance(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var index = 0
        let count = a.count
        while index + 4 <= count {
            let d0 = Double(a[index] - b[index]), d1 = Double(a[index + 1] - b[index + 1])
            let d2 = Double(a[index + 2] - b[index + 2]), d3 = Double(a[index + 3] - b[index + 3])
            s0 += d0 * d0
            s1 += d1 * d1
            s2 += d2 * d2
            s3 += d3 * d3
            index += 4
        }
        var sum = (s0 + s1) + (s2 + s3)
        while index < count {
            let d = Double(a[index] - b[index])
            sum += d * d
            index += 1
        }
        return sum
    }

    private static func mean(
        of deltas: [any DeltaBuffer], indices: [Int], into output: UnsafeMutableBufferPointer<Float>
    ) {
        output.update(repeating: 0)
        let scale = 1 / Float(indices.count)
        for index in indices {
            deltas[index].withFloats { DeltaAccumulator.axpy(scale, $0, into: output) }
        }
    }

    /// Runs `reduce` over each coordinate's column of values, a block of coordinates at a
    /// time so that every delta is read sequentially.
    private static func coordinatewise(
        _ deltas: [any DeltaBuffer], into output: UnsafeMutableBufferPointer<Float>,
        reduce: (inout [Float]) -> Float
    ) {
        let n = deltas.count
        let count = output.count
        let block = 4096
        var columns = [Float](repeating: 0, count: block * n)
        var column = [Float](repeating: 0, count: n)
        var start = 0
        while start < count {
            let width = min(block, count - start)
            for (k, delta) in deltas.enumerated() {
                delta.withFloats { values in
                    for offset in 0..<width { columns[offset * n + k] = values[start + offset] }
                }
            }
            for offset in 0..<width {
                for k in 0..<n { column[k] = columns[offset * n + k] }
                output[start + offset] = reduce(&column)
            }
            start += width
        }
    }
}

/// The recent norms ``RobustAggregation/normBound`` compares an update with.
package struct NormHistory: Sendable, Codable, Equatable {
    package private(set) var norms: [Double] = []
    package let window: Int

    package init(window: Int) { self.window = max(1, window) }

    package mutating func record(_ norm: Double) {
        norms.append(norm)
        if norms.count > window { norms.removeFirst(norms.count - window) }
    }

    package var median: Double? {
        guard !norms.isEmpty else { return nil }
        let sorted = norms.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
