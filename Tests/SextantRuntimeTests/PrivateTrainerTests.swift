import Foundation
import SextantBenchmarks
import SextantML
import SextantPrivacy
import Testing

@testable import SextantClient
@testable import SextantLauncher
@testable import SextantRuntime
@testable import SextantServer
@testable import SextantSimulation

@Suite struct PrivateTrainerTests {
    static let problem = SyntheticClassification(features: 6, classCount: 3, separation: 3, seed: 21)

    /// The gradient of one example's cross-entropy for logistic regression, by hand:
    /// dW[j][k] = (p_j - 1[j = y]) x_k, db_j = p_j - 1[j = y], W row-major then b.
    static func handGradient(parameters: [Float], x: ArraySlice<Float>, label: Int, classes: Int) -> [Double] {
        let inputs = x.count
        let xs = Array(x).map(Double.init)
        var logits = (0..<classes).map { j in
            Double(parameters[classes * inputs + j])
                + (0..<inputs).reduce(0.0) { $0 + Double(parameters[j * inputs + $1]) * xs[$1] }
        }
        let top = logits.max()!
        logits = logits.map { exp($0 - top) }
        let total = logits.reduce(0, +)
        let residual = (0..<classes).map { logits[$0] / total - ($0 == label ? 1 : 0) }
        var gradient = [Double](repeating: 0, count: parameters.count)
        for j in 0..<classes {
            for k in 0..<inputs { gradient[j * inputs + k] = residual[j] * xs[k] }
            gradient[classes * inputs + j] = residual[j]
        }
        return gradient
    }

    @Test func withoutNoiseOrClippingAStepIsSGDOnTheSampledSumOverB() throws {
        let data = Self.problem.makeDataset(count: 40)
        let network = ModelArchitecture.logreg.makeNetwork(input: data.shape, classCount: 3, seed: 5)
        let start = network.parameterVector()
        let lr: Float = 0.5
        var trainer = try PrivateTrainer(
            network: network, dataset: data, optimizer: SGD(learningRate: lr), clipNorm: 1e6, noiseMultiplier: 0,
            expectedBatchSize: 10, generator: SeededGenerator(seed: 99))
        let progress = trainer.train(steps: 1)

        // The same generator draws the same Poisson batch; z = 0 draws nothing more.
        var generator = SeededGenerator(seed: 99)
        let batch = PoissonSampler(sampleRate: 0.25, populationSize: 40).sample(using: &generator)
        #expect(!batch.isEmpty)
        #expect(progress.examples == batch.count)
        var sum = [Double](repeating: 0, count: start.count)
        for index in batch {
            let x = data.features[(index * 6)..<((index + 1) * 6)]
            let g = Self.handGradient(parameters: start, x: x, label: Int(data.labels[index]), classes: 3)
            for i in sum.indices { sum[i] += g[i] }
        }
        // w1 = w0 - lr · Σ g_i / B with B = 10 the expected batch size (the mean gradient of
        // the drawn batch times b/B).
        let after = network.parameterVector()
        for i in start.indices {
            let expected = Double(start[i]) - Double(lr) * sum[i] / 10
            // Float arithmetic over at most ~20 terms of size ~1: 1e-5 absolute.
            #expect(abs(Double(after[i]) - expected) < 1e-5, "parameter \(i)")
        }
    }

    @Test func clippingBoundsEachExamplesInfluence() throws {
        let data = Self.problem.makeDataset(count: 40)
        let network = ModelArchitecture.logreg.makeNetwork(input: data.shape, classCount: 3, seed: 5)
        let start = network.parameterVector()
        var trainer = try PrivateTrainer(
            network: network, dataset: data, optimizer: SGD(learningRate: 1), clipNorm: 0.01, noiseMultiplier: 0,
            expectedBatchSize: 10, generator: SeededGenerator(seed: 99))
        let progress = trainer.train(steps: 1)
        let after = network.parameterVector()
        let moved = zip(after, start).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
        // ‖Σ clip(g_i)‖ / B <= b · C / B.
        #expect(moved <= Double(progress.examples) * 0.01 / 10 * (1 + 1e-5))
        #expect(trainer.clippedExamples == progress.examples)
    }

    @Test func withNoiseItStillLearnsAnEasyProblem() throws {
        let train = Self.problem.makeDataset(count: 400)
        let test = Self.problem.makeDataset(count: 300, stream: 1)
        let network = ModelArchitecture.logreg.makeNetwork(input: train.shape, classCount: 3, seed: 5)
        let before = network.evaluate(on: test).accuracy
        var trainer = try PrivateTrainer(
            network: network, dataset: train, optimizer: SGD(learningRate: 0.5), clipNorm: 1, noiseMultiplier: 1,
            expectedBatchSize: 40, generator: SeededGenerator(seed: 3))
        _ = trainer.train(steps: 150)
        let after = network.evaluate(on: test).accuracy
        // Chance is 1/3; separated Gaussians are learnt to well above it despite the noise.
        #expect(after > 0.75, "accuracy \(before) -> \(after)")
        #expect(trainer.stepsTaken == 150)
    }

    @Test func epsilonIsTheAccountantsOverAllStepsTaken() throws {
        let data = Self.problem.makeDataset(count: 100)
        let network = ModelArchitecture.logreg.makeNetwork(input: data.shape, classCount: 3, seed: 5)
        var trainer = try PrivateTrainer(
            network: network, dataset: data, optimizer: SGD(learningRate: 0.1), clipNorm: 1, noiseMultiplier: 1.1,
            expectedBatchSize: 5, stepsTaken: 20, generator: SeededGenerator(seed: 3))
        _ = trainer.train(steps: 10)
        #expect(trainer.sampleRate == 0.05)
        let direct = try RDPAccountant.epsilon(noiseMultiplier: 1.1, sampleRate: 0.05, steps: 30, delta: 1e-5)
        let reported = try trainer.epsilon(delta: 1e-5)
        #expect(abs(reported.epsilon - direct.epsilon) <= 1e-12 * direct.epsilon)
        #expect(reported.order == direct.order)
        let group = try trainer.groupEpsilon(groupSize: 2, delta: 1e-5)
        #expect(group.epsilon > reported.epsilon)
    }

    @Test func badSettingsAreRefused() throws {
        let data = Self.problem.makeDataset(count: 10)
        let network = ModelArchitecture.logreg.makeNetwork(input: data.shape, classCount: 3, seed: 5)
        #expect(throws: PrivacyError.self) {
            try PrivateTrainer(
                network: network, dataset: data, optimizer: SGD(learningRate: 0.1), clipNorm: 1, noiseMultiplier: 1,
                expectedBatchSize: 11)
        }
        #expect(throws: PrivacyError.self) {
            try PrivateTrainer(
                network: network, dataset: data, optimizer: SGD(learningRate: 0.1), clipNorm: -1, noiseMultiplier: 1,
                expectedBatchSize: 5)
        }
    }
}
