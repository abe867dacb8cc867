/// Count, missing cells, sum, sum of squares and extremes of one numeric column (or one
/// channel of array data): mergeable by addition, and enough for a mean, a population
/// standard deviation and a range.
package struct NumericStatistics: Hashable, Sendable, Codable {
    /// Values present.
    package var count: Int
    package var missing: Int
    package var sum: Double
    package var sumOfSquares: Double
    /// Meaningless (0) while `count` is 0.
    package var min: Double
    package var max: Double

    package init(
        count: Int = 0, missing: Int = 0, sum: Double = 0, sumOfSquares: Double = 0, min: Double = 0, max: Double = 0
    ) {
        self.count = count
        self.missing = missing
        self.sum = sum
        self.sumOfSquares = sumOfSquares
        self.min = min
        self.max = max
    }

    package var mean: Double { count == 0 ? 0 : sum / Double(count) }

    /// The population variance (over every value, not a sample estimate), never negative.
    package var variance: Double {
        guard count > 0 else { return 0 }
        let mean = self.mean
        return Swift.max(sumOfSquares / Double(count) - mean * mean, 0)
    }

    package mutating func merge(_ other: NumericStatistics) {
        if other.count > 0 {
            min = count == 0 ? other.min : Swift.min(min, other.min)
            max = count == 0 ? other.max : Swift.max(max, other.max)
        }
        count += other.count
        missing += other.missing
        sum += other.sum
        sumOfSquares += other.sumOfSquares
    }

    /// What is wrong with this as a claim about `records` records, or nil.
    func problem(records: Int) -> String? {
        guard count >= 0, missing >= 0, count <= records, missing <= records - count else {
            return "count \(count) and missing \(missing) do not fit \(records) records"
        }
        guard sum.isFinite, sumOfSquares.isFinite, min.isFinite, max.isFinite, sumOfSquares >= 0 else {
            return "a sum or an extreme is not a finite number"
        }
        guard count == 0 || min <= max else { return "min \(min) is above max \(max)" }
        return nil
    }
}

/// Builds ``NumericStatistics`` value by value, with compensated (Neumaier) sums so that a
/// million values lose no more precision than a handful do.
struct NumericAccumulator {
    private(set) var statistics = NumericStatistics()
    private var sumCompensation = 0.0
    private var squaresCompensation = 0.0

    @inline(__always)
    mutating func add(_ x: Double) {
        if statistics.count == 0 {
            statistics.min = x
            statistics.max = x
        } else {
            statistics.min = Swift.min(statistics.min, x)
            statistics.max = Swift.max(statistics.max, x)
        }
        statistics.count += 1
        Self.add(x, to: &statistics.sum, compensation: &sumCompensation)
        Self.add(x * x, to: &statistics.sumOfSquares, compensation: &squaresCompensation)
    }

    mutating func addMissing() { statistics.missing += 1 }

    var result: NumericStatistics {
        var result = statistics
        result.sum += sumCompensation
        result.sumOfSquares += squaresCompensation
        return result
    }

    @inline(__always)
    private static func add(_ x: Double, to sum: inout Double, compensation: inout Double) {
        let t = sum + x
        compensation += abs(sum) >= abs(x) ? (sum - t) + x : (x - t) + sum
        sum = t
    }
}
