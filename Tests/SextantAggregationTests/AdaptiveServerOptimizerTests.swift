import SextantScheduling
import Testing

@testable import SextantAggregation

// Hand-worked steps of Reddi et al. 2021's server optimizers, driven through
// ServerOptimizer.apply as the aggregation core drives them. The parameters are chosen so
// that every v is a square of a short decimal (sqrt exact on paper); Float32 rounding of
// these few operations stays below 1e-6, the tolerance used.
@Suite("Adaptive server optimizers (FedAdam, FedYogi, FedAdagrad)")
struct AdaptiveServerOptimizerTests {
    /// Applies one aggregation whose pseudo-gradient is `g` (one bucket, coefficient 1).
    func step(_ optimizer: inout ServerOptimizer, _ model: inout [Float], _ g: [Float]) {
        var accumulator = DeltaAccumulator(parameterCount: g.count)
        g.withUnsafeBufferPointer { accumulator.accumulate($0, weight: 1, into: "b") }
        let aggregation = Aggregation(newVersion: 1, buckets: [BucketWeight(bucket: "b", coefficient: 1)], updates: [])
        model.withUnsafeMutableBufferPointer { optimizer.apply(aggregation, accumulator: &accumulator, to: $0) }
    }

    func expectClose(_ actual: [Float], _ expected: [Float], _ comment: Comment? = nil) {
        #expect(actual.count == expected.count)
        for (a, e) in zip(actual, expected) { #expect(abs(a - e) < 1e-6, comment) }
    }

    @Test func fedAdamTwoSteps() {
        // eta 1, beta1 0.5, beta2 0.75, tau 0.2: m0 = 0, v0 = tau^2 = 0.04.
        let rule = AdaptiveServerOptimizer(rule: .fedadam, learningRate: 1, beta1: 0.5, beta2: 0.75, tau: 0.2)
        var optimizer = ServerOptimizer(parameterCount: 2, adaptive: rule)
        var model: [Float] = [1, 1]
        // g = (0.2, -0.2): m = 0.5 g = (0.1, -0.1); v = 0.75 * 0.04 + 0.25 * 0.04 = 0.04;
        // w += m / (0.2 + 0.2) = (0.25, -0.25).
        step(&optimizer, &model, [0.2, -0.2])
        expectClose(model, [1.25, 0.75])
        expectClose(optimizer.moments, [0.1, -0.1, 0.04, 0.04])
        // Again: m = 0.5 (0.1) + 0.5 (0.2) = 0.15; v = 0.04; w += 0.15 / 0.4 = 0.375.
        step(&optimizer, &model, [0.2, -0.2])
        expectClose(model, [1.625, 0.375])
        expectClose(optimizer.moments, [0.15, -0.15, 0.04, 0.04])
    }

    @Test func fedYogiGrowsAndShrinksTheSecondMoment() {
        // eta 1, beta1 0.5, beta2 0.6875 (1 - beta2 = 0.3125), tau 0.2: v0 = 0.04.
        let rule = AdaptiveServerOptimizer(rule: .fedyogi, learningRate: 1, beta1: 0.5, beta2: 0.6875, tau: 0.2)
        var optimizer = ServerOptimizer(parameterCount: 2, adaptive: rule)
        var model: [Float] = [0, 0]
        // Coordinate 0: g = 0.4, g^2 = 0.16 > v: v = 0.04 + 0.3125 * 0.16 = 0.09; m = 0.2;
        //   w += 0.2 / (0.3 + 0.2) = 0.4.
        // Coordinate 1: g = 0.1, g^2 = 0.01 < v: v = 0.04 - 0.3125 * 0.01 = 0.036875 (where
        //   Adam would give 0.6875 * 0.04 + 0.3125 * 0.01 = 0.030625); m = 0.05;
        //   w += 0.05 / (sqrt(0.036875) + 0.2).
        step(&optimizer, &model, [0.4, 0.1])
        expectClose(optimizer.moments, [0.2, 0.05, 0.09, 0.036875])
        expectClose(model, [0.4, Float(0.05 / (0.036875.squareRoot() + 0.2))])
    }

    @Test func fedAdagradAccumulatesSquares() {
        // eta 1, beta1 0.5, tau 0.3: v0 = 0.09 (beta2 is not used).
        let rule = AdaptiveServerOptimizer(rule: .fedadagrad, learningRate: 1, beta1: 0.5, beta2: 0.1, tau: 0.3)
        var optimizer = ServerOptimizer(parameterCount: 2, adaptive: rule)
        var model: [Float] = [0, 0]
        // g = (0.4, -0.4): m = (0.2, -0.2); v = 0.09 + 0.16 = 0.25; w += m / (0.5 + 0.3) = (0.25, -0.25).
        step(&optimizer, &model, [0.4, -0.4])
        expectClose(model, [0.25, -0.25])
        // g = (1.2, 0): m = (0.7, -0.1); v = (0.25 + 1.44, 0.25) = (1.69, 0.25);
        // w += (0.7 / (1.3 + 0.3), -0.1 / (0.5 + 0.3)) = (0.4375, -0.125).
        step(&optimizer, &model, [1.2, 0])
        expectClose(optimizer.moments, [0.7, -0.1, 1.69, 0.25])
        expectClose(model, [0.6875, -0.375])
    }

    @Test func restoredMomentsContinueIdentically() {
        let rule = AdaptiveServerOptimizer(rule: .fedadam, learningRate: 0.1, beta1: 0.9, beta2: 0.99, tau: 1e-3)
        var optimizer = ServerOptimizer(parameterCount: 3, adaptive: rule)
        var model: [Float] = [0.5, -1, 2]
        step(&optimizer, &model, [0.3, -0.1, 0.02])
        var resumed = ServerOptimizer(parameterCount: 3, adaptive: rule, moments: optimizer.moments)
        var copy = model
        step(&optimizer, &model, [0.1, 0.2, -0.3])
        step(&resumed, &copy, [0.1, 0.2, -0.3])
        #expect(copy == model)
        #expect(resumed.moments == optimizer.moments)
        #expect(optimizer.velocity.isEmpty)
    }
}
