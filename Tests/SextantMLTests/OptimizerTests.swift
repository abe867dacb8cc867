import SextantML
import SextantTestSupport
import Testing

/// Applies one optimizer step to `parameters`.
private func step(_ optimizer: inout some Optimizer, _ parameters: inout [Float], _ gradients: [Float]) {
    parameters.withUnsafeMutableBufferPointer { p in
        gradients.withUnsafeBufferPointer { g in optimizer.update(p, gradients: g) }
    }
}

/// Float32 arithmetic on values of order 1 over two steps: 1e-6 is a few ulps.
private func expectClose(
    _ actual: [Float], _ expected: [Float], tolerance: Float = 1e-6,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, sourceLocation: sourceLocation)
    for (a, e) in zip(actual, expected) {
        #expect(abs(a - e) <= tolerance * max(1, abs(e)), "\(actual) vs \(expected)", sourceLocation: sourceLocation)
    }
}

@Suite("Optimizers")
struct OptimizerTests {
    @Test func sgdPlainStep() {
        var sgd = SGD(learningRate: 0.1)
        var w: [Float] = [1, -2, 0.5, 3]
        let g: [Float] = [0.5, 1, -4, 0]
        let expected = zip(w, g).map { $0 - 0.1 * $1 }
        step(&sgd, &w, g)
        expectClose(w, expected)
        expectClose(w, [0.95, -2.1, 0.9, 3])
    }

    @Test func sgdMomentumTwoSteps() {
        // v1 = g1 = [0.5, 1]; w1 = w0 - 0.1 v1 = [0.95, -2.1]
        // v2 = 0.9 v1 + g2 = [1.45, -0.1]; w2 = w1 - 0.1 v2 = [0.805, -2.09]
        var sgd = SGD(learningRate: 0.1, momentum: 0.9)
        var w: [Float] = [1, -2]
        step(&sgd, &w, [0.5, 1])
        expectClose(w, [0.95, -2.1])
        step(&sgd, &w, [1, -1])
        expectClose(w, [0.805, -2.09])
        // After reset the velocity is gone: the next step is a plain step.
        sgd.reset()
        step(&sgd, &w, [1, 1])
        expectClose(w, [0.705, -2.19])
    }

    @Test func sgdWeightDecay() {
        // w1 = w0 - lr (g + wd w0) = 2 - 0.1 (0.5 + 0.1 * 2) = 1.93; and -1 - 0.1 (0 - 0.1) = -0.99
        var plain = SGD(learningRate: 0.1, weightDecay: 0.1)
        var w: [Float] = [2, -1]
        step(&plain, &w, [0.5, 0])
        expectClose(w, [1.93, -0.99])
        // With momentum the decay term enters the velocity: v1 = g + wd w0, then
        // v2 = 0.9 v1 + g + wd w1.
        var heavy = SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.1)
        var u: [Float] = [2]
        step(&heavy, &u, [0.5])  // v1 = 0.7, u1 = 1.93
        step(&heavy, &u, [0.5])  // v2 = 0.63 + 0.5 + 0.193 = 1.323, u2 = 1.93 - 0.1323 = 1.7977
        expectClose(u, [1.7977])
    }

    @Test func adamFirstStepMovesByLearningRateTimesSign() {
        // After bias correction, m̂ = g and v̂ = g², so the first step is lr g / (|g| + eps):
        // lr * sign(g) up to eps / |g| <= 1e-8 / 1e-3 relative, far below Float32 precision.
        var adam = Adam(learningRate: 0.01)
        let w0: [Float] = [1, -2, 0.5, 3, 0.25]
        var w = w0
        let g: [Float] = [1e-3, -5, 0.2, -0.01, 0]
        step(&adam, &w, g)
        for i in w.indices {
            let sign: Float = g[i] > 0 ? 1 : (g[i] < 0 ? -1 : 0)
            #expect(abs((w0[i] - w[i]) - 0.01 * sign) < 1e-6, "coordinate \(i): moved \(w0[i] - w[i])")
        }
        // A constant gradient keeps moving each coordinate by ~lr per step.
        let w1 = w
        step(&adam, &w, g)
        #expect(abs((w1[1] - w[1]) - 0.01 * -1) < 1e-6)
        // reset restarts the bias correction.
        adam.reset()
        var fresh: [Float] = [0]
        step(&adam, &fresh, [123])
        expectClose(fresh, [-0.01])
    }

    @Test func adamWeightDecayEntersTheGradient() {
        // g + wd w = 0 + 0.5 * 2 > 0: the first step moves down by lr.
        var adam = Adam(learningRate: 0.1, weightDecay: 0.5)
        var w: [Float] = [2]
        step(&adam, &w, [0])
        expectClose(w, [1.9])
    }

    @Test(arguments: ["sgd", "adam"])
    func trainerLearnsSyntheticProblem(_ name: String) throws {
        let problem = SyntheticClassification(features: 10, classCount: 3, seed: 5)
        let train = problem.makeDataset(count: 400, stream: 0)
        let test = problem.makeDataset(count: 300, stream: 1)
        let network = ModelArchitecture.logreg.makeNetwork(input: train.shape, classCount: 3, seed: 1)
        let optimizer: any Optimizer = name == "sgd" ? SGD(learningRate: 0.1, momentum: 0.9) : Adam(learningRate: 0.05)
        let before = network.evaluate(on: test)
        var trainer = try Trainer(network: network, dataset: train, optimizer: optimizer, batchSize: 20, seed: 2)
        let progress = trainer.train(steps: 100)
        #expect(progress.steps == 100)
        #expect(progress.examples == 2000)
        #expect(progress.meanLoss.isFinite)
        let after = network.evaluate(on: test)
        #expect(after.accuracy > 0.9, "accuracy \(after.accuracy) (was \(before.accuracy))")
        #expect(after.loss < before.loss)
        #expect(trainer.batches.epoch >= 4)
    }

    @Test func trainerRejectsMismatchedData() {
        let data = SyntheticClassification(features: 4, classCount: 3, seed: 1).makeDataset(count: 12)
        let wrongShape = ModelArchitecture.logreg.makeNetwork(input: FeatureShape(channels: 5), classCount: 3, seed: 1)
        #expect(throws: SextantMLError.self) {
            _ = try Trainer(
                network: wrongShape, dataset: data, optimizer: SGD(learningRate: 0.1), batchSize: 4, seed: 1)
        }
        let tooFewClasses = ModelArchitecture.logreg.makeNetwork(input: data.shape, classCount: 2, seed: 1)
        do {
            _ = try Trainer(
                network: tooFewClasses, dataset: data, optimizer: SGD(learningRate: 0.1), batchSize: 4, seed: 1)
            Issue.record("labels outside the model's classes were accepted")
        } catch let error as SextantMLError {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("0..<2"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
