import SextantAggregation
import SextantBase
import SextantScheduling

/// Measures the aggregation hot path against this machine's memory bandwidth, measured in
/// the same run with the same access pattern (`y += a x`, two reads and one write per value).
public struct AggregationBenchmark: Sendable {
    public struct Result: Sendable, Codable {
        public var parameters: Int
        public var deltas: Int
        /// Bandwidth of a plain `y += a x` over arrays the size of the model, GB/s.
        public var memoryBandwidth: Double
        /// Bytes moved by accumulating deltas and applying the bucket, GB/s.
        public var aggregationBandwidth: Double
        public var secondsPerDelta: Double
        /// Seconds one aggregation of `deltas` updates takes under each robust rule (its
        /// combination step), beside the plain weighted sum; median of the repetitions.
        public var robustSeconds: [String: Double] = [:]
        public var ratio: Double { aggregationBandwidth / memoryBandwidth }
    }

    public var parameters: Int
    public var deltas: Int
    public var repetitions: Int

    public init(parameters: Int = 10_000_000, deltas: Int = 8, repetitions: Int = 5) {
        self.parameters = parameters
        self.deltas = deltas
        self.repetitions = repetitions
    }

    public func run() -> Result {
        let n = parameters
        let inputs = (0..<deltas).map { k in [Float](repeating: Float(k + 1) * 1e-3, count: n) }
        var model = [Float](repeating: 0.5, count: n)

        // The limit: the same streaming kernel over plain arrays.
        var y = [Float](repeating: 0, count: n)
        var reference: [Double] = []
        for _ in 0..<repetitions {
            let seconds = BenchmarkTiming.seconds {
                y.withUnsafeMutableBufferPointer { y in
                    for x in inputs {
                        x.withUnsafeBufferPointer { DeltaAccumulator.axpy(0.5, $0, into: y) }
                    }
                }
            }
            reference.append(Double(3 * 4 * n * deltas) / seconds / 1e9)
        }

        var rates: [Double] = []
        var perDelta: [Double] = []
        // One accumulator for all repetitions, as the server keeps one for its lifetime.
        var accumulator = DeltaAccumulator(parameterCount: n)
        for _ in 0..<repetitions {
            let seconds = BenchmarkTiming.seconds {
                for x in inputs {
                    x.withUnsafeBufferPointer { accumulator.accumulate($0, weight: 0.25, into: "bench") }
                }
                model.withUnsafeMutableBufferPointer {
                    accumulator.apply([BucketWeight(bucket: "bench", coefficient: 1)], to: $0)
                }
            }
            // The first delta is written once (2 passes), the others read-modify-write (3), the apply 3.
            let bytes = Double(4 * n) * Double(2 + 3 * (deltas - 1) + 3)
            rates.append(bytes / seconds / 1e9)
            perDelta.append(seconds / Double(deltas))
        }
        var result = Result(
            parameters: n, deltas: deltas, memoryBandwidth: BenchmarkTiming.median(reference),
            aggregationBandwidth: BenchmarkTiming.median(rates), secondsPerDelta: BenchmarkTiming.median(perDelta))
        result.robustSeconds["mean"] = BenchmarkTiming.median(perDelta) * Double(deltas)
        let rules: [RobustAggregation] = [
            .median, .trimmedMean(fraction: 0.1), .multiKrum(byzantine: max(1, deltas / 5)),
        ]
        var output = [Float](repeating: 0, count: n)
        // Deltas that differ per coordinate, so that sorting does real work.
        let varied: [[Float]] = (0..<deltas).map { k in (0..<n).map { Float(($0 &* 2_654_435_761 &+ k) % 1000) * 1e-6 }
        }
        for rule in rules {
            var samples: [Double] = []
            for _ in 0..<max(1, repetitions / 2) {
                samples.append(
                    BenchmarkTiming.seconds { output.withUnsafeMutableBufferPointer { rule.combine(varied, into: $0) } }
                )
            }
            result.robustSeconds[rule.name] = BenchmarkTiming.median(samples)
        }
        return result
    }
}
