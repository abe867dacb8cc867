import SextantScheduling
import Testing

@testable import SextantAggregation

@Suite struct DeltaAccumulatorTests {
    let d1: [Float] = [1, 2, 3, 4]
    let d2: [Float] = [-1, 0.5, 0, 2]
    let d3: [Float] = [0.25, -4, 1, 0]

    @Test func accumulateThenApplyEqualsTheWeightedSum() {
        var accumulator = DeltaAccumulator(parameterCount: 4)
        var model: [Float] = [10, 20, 30, 40]
        d1.withUnsafeBufferPointer { accumulator.accumulate($0, weight: 0.5, into: "x") }
        d2.withUnsafeBufferPointer { accumulator.accumulate($0, weight: 2, into: "x") }
        d3.withUnsafeBufferPointer { accumulator.accumulate($0, weight: 1, into: "y") }
        #expect(accumulator.openBuckets == ["x", "y"])
        model.withUnsafeMutableBufferPointer {
            accumulator.apply(
                [
                    BucketWeight(bucket: "x", coefficient: 0.1), BucketWeight(bucket: "y", coefficient: -1),
                    BucketWeight(bucket: "never-filled", coefficient: 5),
                ], to: $0)
        }
        for i in 0..<4 {
            let expected = [10, 20, 30, 40][i] + 0.1 * (0.5 * d1[i] + 2 * d2[i]) - d3[i]
            // A handful of float operations on values < 100: 1e-5 is tens of ulps.
            #expect(abs(model[i] - expected) < 1e-5)
        }
        #expect(accumulator.openBuckets.isEmpty)
    }

    @Test func reusedBucketsStartFromZero() {
        var accumulator = DeltaAccumulator(parameterCount: 4)
        var model = [Float](repeating: 0, count: 4)
        for round in 0..<4 {
            // The same bucket name each round; a reused vector must not leak the last sum.
            let delta = round % 2 == 0 ? d1 : d2
            delta.withUnsafeBufferPointer { accumulator.accumulate($0, weight: 1, into: "round") }
            var before = model
            model.withUnsafeMutableBufferPointer {
                accumulator.apply([BucketWeight(bucket: "round", coefficient: 1)], to: $0)
            }
            for i in 0..<4 { before[i] += delta[i] }
            #expect(model == before)
        }
    }

    @Test func serverOptimizerAppliesMomentum() {
        var accumulator = DeltaAccumulator(parameterCount: 2)
        var optimizer = ServerOptimizer(parameterCount: 2)
        var model: [Float] = [0, 0]
        func step(_ delta: [Float], momentum: Double?) {
            delta.withUnsafeBufferPointer { accumulator.accumulate($0, weight: 1, into: "b") }
            let aggregation = Aggregation(
                newVersion: 1, buckets: [BucketWeight(bucket: "b", coefficient: 1)], updates: [],
                serverMomentum: momentum)
            model.withUnsafeMutableBufferPointer { optimizer.apply(aggregation, accumulator: &accumulator, to: $0) }
        }
        step([1, 2], momentum: 0.9)  // v = g1 = (1, 2); w = (1, 2)
        #expect(model == [1, 2])
        step([0.5, -1], momentum: 0.9)  // v = 0.9 (1, 2) + (0.5, -1) = (1.4, 0.8); w = (2.4, 2.8)
        #expect(abs(model[0] - 2.4) < 1e-6 && abs(model[1] - 2.8) < 1e-6)
        #expect(abs(optimizer.velocity[0] - 1.4) < 1e-6 && abs(optimizer.velocity[1] - 0.8) < 1e-6)

        // A restarted server restores the velocity and continues identically.
        var resumed = ServerOptimizer(parameterCount: 2, velocity: optimizer.velocity)
        var copy = model
        var other = DeltaAccumulator(parameterCount: 2)
        [Float(1), 1].withUnsafeBufferPointer { other.accumulate($0, weight: 1, into: "b") }
        let aggregation = Aggregation(
            newVersion: 3, buckets: [BucketWeight(bucket: "b", coefficient: 1)], updates: [], serverMomentum: 0.9)
        copy.withUnsafeMutableBufferPointer { resumed.apply(aggregation, accumulator: &other, to: $0) }
        step([1, 1], momentum: 0.9)
        #expect(copy == model)

        // Without momentum: w += g, velocity untouched.
        let velocity = optimizer.velocity
        step([1, 1], momentum: nil)
        #expect(optimizer.velocity == velocity)
    }
}
