import Foundation
import SextantML
import SextantTestSupport
import Testing

// Loss gradients against central differences of the mean loss, computed in Double from the
// Float32 outputs by an independent formula. h = 1e-2: the losses are smooth (sigmoid
// cross-entropy: |f'''| <= 0.1 w / batch; MSE: f''' = 0), so the truncation error h² f''' / 6
// is below 1e-5, and the Float32 rounding of a loss of O(1) over 2h is ~1e-5; gradients are
// O(0.01 - 0.5), hence rtol 1e-2 and atol 1e-4 as for softmax cross-entropy. Huber is smooth
// except where |d| = delta (its second derivative jumps): the points are kept at least 0.1 from
// |d| = delta, more than h, so no difference straddles the kink.
private let epsilon: Float = 1e-2

@Suite("Task losses")
struct TaskLossTests {
    private func binaryLoss(_ z: [Float], _ y: [Int32], weight: Double) -> Double {
        zip(z, y).reduce(0.0) { total, pair in
            let p = 1 / (1 + exp(-Double(pair.0)))
            return total - (pair.1 == 1 ? weight * log(p) : log(1 - p))
        } / Double(z.count)
    }

    private func analytic(_ task: LearningTask, _ outputs: [Float], _ targets: BatchTargets, batch: Int) -> (
        [Float], LossStatistics
    ) {
        var gradient = [Float](repeating: .nan, count: outputs.count)
        let result = task.evaluate(outputs: outputs, targets: targets, batchSize: batch, gradient: &gradient)
        return (gradient, result)
    }

    @Test(arguments: [1.0, 3.0])
    func sigmoidCrossEntropyGradient(_ weight: Double) {
        let labels: [Int32] = [1, 0, 1, 1, 0]
        let logits = GradientCheck.randomValues(labels.count, in: -3...3, seed: 90)
        let task = LearningTask.binary(positiveWeight: Float(weight))
        let (gradient, result) = labels.withUnsafeBufferPointer {
            analytic(task, logits, .labels($0.baseAddress!), batch: 5)
        }
        #expect(abs(result.totalLoss / 5 - binaryLoss(logits, labels, weight: weight)) < 1e-5)
        let report = GradientCheck.check(
            loss: { binaryLoss($0, labels, weight: weight) }, at: logits, analytic: gradient,
            coordinates: Array(logits.indices), epsilon: epsilon, relativeTolerance: 1e-2, absoluteTolerance: 1e-4)
        #expect(report.passed, "\(report)")
        #expect(report.largestMagnitude > 0.05)
    }

    @Test func sigmoidCrossEntropyByHand() {
        // z = 0: loss log 2 for either label; z = 2, y = 1: log(1 + e^-2) = 0.126928;
        // z = 2, y = 0 with weight 2 (the weight touches positives only): log(1 + e^2) = 2.126928;
        // z = -100, y = 1: 100 (no overflow).
        let logits: [Float] = [0, 0, 2, 2, -100]
        let labels: [Int32] = [1, 0, 1, 0, 1]
        var losses = [Float](repeating: .nan, count: 5)
        let result = labels.withUnsafeBufferPointer { y in
            LearningTask.binary(positiveWeight: 2).evaluate(
                outputs: logits, targets: .labels(y.baseAddress!), batchSize: 5, perExampleLosses: &losses)
        }
        let expected = [2 * log(2.0), log(2.0), 2 * 0.126928, 2.126928, 200]
        for (actual, value) in zip(losses, expected) { #expect(abs(Double(actual) - value) < 1e-4) }
        // Correct: z > 0 predicts 1. Rows 2 (2, 1) only; row 0 (z = 0, y = 1) and row 4 are wrong, row 1 right.
        #expect(result.correct == 2)
    }

    private func regressionLoss(_ p: [Float], _ t: [Float], _ loss: RegressionLoss) -> Double {
        zip(p, t).reduce(0.0) { total, pair in
            let d = Double(pair.0) - Double(pair.1)
            switch loss {
            case .meanSquared: return total + d * d
            case .huber(let delta):
                let delta = Double(delta)
                return total + (abs(d) <= delta ? 0.5 * d * d : delta * (abs(d) - 0.5 * delta))
            }
        } / Double(p.count)
    }

    @Test(arguments: [RegressionLoss.meanSquared, .huber(delta: 0.5)])
    func regressionGradient(_ loss: RegressionLoss) {
        // 3 examples x 2 outputs; errors of magnitude in [0.1, 0.35] or [0.65, 1.5] stay at
        // least 0.15 from the Huber kink at 0.5.
        let targets = GradientCheck.randomValues(6, seed: 91)
        let errors: [Float] = [0.2, -0.3, 0.8, -1.4, 0.15, 1.1]
        let predictions = zip(targets, errors).map { $0 + $1 }
        let task = LearningTask.regression(outputs: 2, loss: loss)
        let (gradient, result) = targets.withUnsafeBufferPointer {
            analytic(task, predictions, .values($0.baseAddress!), batch: 3)
        }
        #expect(abs(result.totalLoss / 3 - regressionLoss(predictions, targets, loss)) < 1e-6)
        let report = GradientCheck.check(
            loss: { regressionLoss($0, targets, loss) }, at: predictions, analytic: gradient,
            coordinates: Array(predictions.indices), epsilon: epsilon, relativeTolerance: 1e-2, absoluteTolerance: 1e-4)
        #expect(report.passed, "\(report)")
        #expect(report.largestMagnitude > 0.05)
    }

    @Test func huberByHand() {
        // delta 1: errors 0.5 -> 0.125, -2 -> 1 * (2 - 0.5) = 1.5; mean 0.8125.
        let loss = RegressionLoss.huber(delta: 1)
        var gradient = [Float](repeating: .nan, count: 2)
        let result = loss.evaluate(
            predictions: [1.5, -2], targets: [1, 0], batchSize: 1, outputs: 2, gradient: &gradient)
        #expect(abs(result.totalLoss - 0.8125) < 1e-6)
        #expect(gradient == [0.25, -0.5])
    }

    // MARK: - Networks on the new tasks

    /// A network with every new layer: conv (stride 2) -> gelu -> avgpool -> flatten -> dropout -> linear -> tanh -> linear.
    private func network(task: LearningTask, seed: UInt64) throws -> Network {
        let spec = ModelSpec(
            layers: [
                .conv2d(out: 2, kernel: 3, stride: 2, padding: 1), .gelu, .avgpool(kernel: 2, stride: 1),
                .flatten, .dropout(p: 0.3), .linear(out: 5), .tanh, .sigmoid, .linear(out: nil),
            ])
        var spec2 = spec
        switch task {
        case .binary: spec2.task = TaskSpec(type: .binary, positiveWeight: 2)
        case .regression: spec2.task = TaskSpec(type: .regression, outputs: 2, loss: "huber", delta: 0.5)
        case .classification: break
        }
        return try spec2.makeNetwork(input: FeatureShape(channels: 1, height: 5, width: 5), classCount: 3, seed: seed)
    }

    @Test(arguments: ["classification", "binary", "regression"])
    func networkGradientWithTask(_ kind: String) throws {
        let task: LearningTask =
            switch kind {
            case "binary": .binary(positiveWeight: 2)
            case "regression": .regression(outputs: 2, loss: .huber(delta: 0.5))
            default: .classification(classes: 3)
            }
        let net = try network(task: task, seed: 20)
        #expect(net.task == task)
        let batch = 3
        let features = GradientCheck.randomValues(batch * 25, seed: 92)
        let labels: [Int32] = kind == "binary" ? [1, 0, 1] : [2, 0, 1]
        let targets = GradientCheck.randomValues(batch * 2, in: -3...3, seed: 93)
        func step() -> [Float] {
            _ = features.withUnsafeBufferPointer { x in
                labels.withUnsafeBufferPointer { y in
                    targets.withUnsafeBufferPointer { t in
                        net.trainingStep(
                            x.baseAddress!,
                            targets: kind == "regression" ? .values(t.baseAddress!) : .labels(y.baseAddress!),
                            batchSize: batch)
                    }
                }
            }
            return Array(net.gradients)
        }
        // Dropout draws a mask per training pass, so the check replaces it by p = 0 through a
        // separate network with the same weights; the dropout layer's own backward is checked in
        // LayerSetTests. Here: evaluation-mode loss vs the training gradient with dropout off.
        let plain = try {
            var spec = ModelSpec(
                layers: [
                    .conv2d(out: 2, kernel: 3, stride: 2, padding: 1), .gelu, .avgpool(kernel: 2, stride: 1),
                    .flatten, .dropout(p: 0), .linear(out: 5), .tanh, .sigmoid, .linear(out: nil),
                ])
            if kind == "binary" { spec.task = TaskSpec(type: .binary, positiveWeight: 2) }
            if kind == "regression" { spec.task = TaskSpec(type: .regression, outputs: 2, loss: "huber", delta: 0.5) }
            return try spec.makeNetwork(input: FeatureShape(channels: 1, height: 5, width: 5), classCount: 3, seed: 20)
        }()
        #expect(plain.parameterVector() == net.parameterVector(), "dropout's p does not change the weights")
        _ = step()
        let point = plain.parameterVector()
        _ = features.withUnsafeBufferPointer { x in
            labels.withUnsafeBufferPointer { y in
                targets.withUnsafeBufferPointer { t in
                    plain.trainingStep(
                        x.baseAddress!,
                        targets: kind == "regression" ? .values(t.baseAddress!) : .labels(y.baseAddress!),
                        batchSize: batch)
                }
            }
        }
        let gradient = Array(plain.gradients)
        func meanLoss(_ parameters: [Float]) -> Double {
            plain.loadParameters(parameters)
            return features.withUnsafeBufferPointer { x in
                let outputs = plain.forward(x.baseAddress!, batchSize: batch)
                return labels.withUnsafeBufferPointer { y in
                    targets.withUnsafeBufferPointer { t in
                        plain.task.evaluate(
                            outputs: outputs,
                            targets: kind == "regression" ? .values(t.baseAddress!) : .labels(y.baseAddress!),
                            batchSize: batch
                        ).totalLoss / Double(batch)
                    }
                }
            }
        }
        // Whole-network check with h = 1e-3 as in NetworkTests (Float32 loss, atol 2e-4, rtol 2e-2).
        let report = GradientCheck.check(
            loss: meanLoss, at: point, analytic: gradient, coordinates: Array(point.indices), epsilon: 1e-3,
            relativeTolerance: 2e-2, absoluteTolerance: 2e-4)
        plain.loadParameters(point)
        #expect(report.passed, "\(report)")
        #expect(report.largestMagnitude > 1e-2)
        // The network with dropout on trains (its gradient differs from the plain one) and is deterministic per seed.
        let withDropout = step()
        #expect(withDropout != gradient)
    }

    @Test func regressionTrainsAndEvaluates() throws {
        // y = 2 x0 - x1 + 0.5 on 64 records; a linear model fits it.
        var generator = SeededGenerator(seed: 94)
        let count = 64
        let features = (0..<(2 * count)).map { _ in Float.random(in: -1...1, using: &generator) }
        let targets: [Float] = (0..<count).map { (row: Int) -> Float in
            let (x0, x1) = (features[2 * row], features[2 * row + 1])
            return 2 * x0 - x1 + 0.5
        }
        let data = Dataset(shape: FeatureShape(channels: 2), features: features, targets: targets)
        #expect(data.targetWidth == 1)
        let spec = ModelSpec(task: TaskSpec(type: .regression), layers: [.linear(out: nil)])
        let network = try spec.makeNetwork(input: data.shape, classCount: 0, seed: 1)
        var trainer = try Trainer(
            network: network, dataset: data, optimizer: SGD(learningRate: 0.1), batchSize: 16, seed: 2)
        let before = network.evaluate(on: data)
        trainer.train(steps: 300)
        let after = network.evaluate(on: data)
        #expect(after.loss < before.loss / 100, "\(before.loss) -> \(after.loss)")
        #expect((after.metrics?["r2"] ?? 0) > 0.99)
        #expect(after.metrics?["rmse"] != nil && after.metrics?["mae"] != nil)
        // Labels-only data is refused for regression, with a message naming the task.
        let labelled = Dataset(
            shape: data.shape, classCount: 2, features: features, labels: [Int32](repeating: 0, count: count))
        #expect(throws: SextantMLError.self) {
            _ = try Trainer(
                network: network, dataset: labelled, optimizer: SGD(learningRate: 0.1), batchSize: 16, seed: 2)
        }
    }
}
