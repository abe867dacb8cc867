import Foundation
import SextantML
import SextantTestSupport
import Testing

/// A tiny CNN exercising every layer type: conv (padded) -> relu -> pool -> conv -> relu -> flatten -> linear.
private func tinyConvNet(seed: UInt64) -> Network {
    let input = FeatureShape(channels: 1, height: 6, width: 6)
    let conv1 = Conv2d(input: input, outChannels: 2, kernel: 3, padding: 1)
    let pool = MaxPool2d(shape: conv1.outputShape)
    let conv2 = Conv2d(input: pool.outputShape, outChannels: 3, kernel: 2)
    return Network(
        layers: [
            conv1, ReLU(shape: conv1.outputShape), pool,
            conv2, ReLU(shape: conv2.outputShape),
            Flatten(shape: conv2.outputShape), Linear(inputs: conv2.outputShape.count, outputs: 3),
        ],
        classCount: 3, seed: seed)
}

/// The `mlp` architecture (two hidden layers of 200) on a small 1x4x4 input.
private func smallMLP(seed: UInt64) -> Network {
    ModelArchitecture.mlp.makeNetwork(input: FeatureShape(channels: 1, height: 4, width: 4), classCount: 3, seed: seed)
}

/// A small batch for `network`: features in [-1, 1] and labels in 0..<classCount.
private func batch(for network: Network, size: Int, seed: UInt64) -> (features: [Float], labels: [Int32]) {
    var generator = SeededGenerator(seed: seed)
    let labels = (0..<size).map { _ in Int32.random(in: 0..<Int32(network.classCount), using: &generator) }
    return (GradientCheck.randomValues(size * network.inputShape.count, seed: seed &+ 100), labels)
}

@Suite("Network")
struct NetworkTests {
    // MARK: - Gradients of the whole network

    // The loss is the mean cross-entropy, recomputed in Double from the Float32 logits. The
    // step is h = 1e-3, not 1e-2: with 1e-2 some perturbations of the mlp's first layer move a
    // ReLU pre-activation across 0 and that coordinate's difference is off by up to 9x the
    // tolerance (measured); with 1e-3 and fixed seeds no kink is crossed. The Float32 rounding of
    // the logits (~1e-7 relative) changes the loss by ~1e-7, i.e. ~5e-5 after dividing by 2h;
    // the softmax curvature adds h² f''' ~ 1e-7. Hence atol 2e-4 (4x the rounding estimate)
    // and rtol 2e-2 (measured over 300 mlp coordinates: the worst error is 0.18 of what is
    // allowed); a misplaced layer slice or a missing 1/batch is off by 100 % or more.
    private static let epsilon: Float = 1e-3
    private static let relativeTolerance = 2e-2
    private static let absoluteTolerance = 2e-4

    private func checkTrainingStepGradient(_ network: Network, samplesPerLayer: Int, seed: UInt64) {
        let (features, labels) = batch(for: network, size: 3, seed: seed)
        let point = network.parameterVector()
        let analytic = network.gradientOfMeanLoss(features: features, labels: labels)
        #expect(analytic.allSatisfy { $0.isFinite })
        // Sample coordinates in every layer that has parameters, so each slice is covered.
        var coordinates: [Int] = []
        for index in network.layers.indices {
            let range = network.parameterRange(ofLayer: index)
            guard !range.isEmpty else { continue }
            coordinates += GradientCheck.sampleCoordinates(
                samplesPerLayer, of: range.count, seed: seed &+ UInt64(index)
            )
            .map { range.lowerBound + $0 }
        }
        let report = GradientCheck.check(
            loss: { parameters in
                network.loadParameters(parameters)
                return network.meanLossInDouble(features: features, labels: labels)
            },
            at: point, analytic: analytic, coordinates: coordinates, epsilon: Self.epsilon,
            relativeTolerance: Self.relativeTolerance, absoluteTolerance: Self.absoluteTolerance)
        network.loadParameters(point)
        #expect(report.passed, "\(report)")
        #expect(report.largestMagnitude > 1e-2, "every checked derivative is ~0")
    }

    @Test func tinyConvNetTrainingStepGradient() {
        checkTrainingStepGradient(tinyConvNet(seed: 1), samplesPerLayer: 12, seed: 3)
    }

    @Test func mlpTrainingStepGradient() {
        checkTrainingStepGradient(smallMLP(seed: 2), samplesPerLayer: 12, seed: 4)
    }

    @Test func trainingStepReportsLossAndAccuracy() {
        let network = tinyConvNet(seed: 5)
        let (features, labels) = batch(for: network, size: 4, seed: 6)
        let reference = network.meanLossInDouble(features: features, labels: labels)
        let result = features.withUnsafeBufferPointer { x in
            labels.withUnsafeBufferPointer { y in
                network.trainingStep(x.baseAddress!, labels: y.baseAddress!, batchSize: 4)
            }
        }
        // The result's loss is a sum over the batch of Float32 losses.
        #expect(abs(result.totalLoss / 4 - reference) < 1e-5)
        #expect((0...4).contains(result.correct))
    }

    @Test(arguments: ["conv", "mlp"])
    func perExampleGradientsAverageToBatchGradient(_ kind: String) {
        let network = kind == "conv" ? tinyConvNet(seed: 7) : smallMLP(seed: 7)
        let size = 4
        let (features, labels) = batch(for: network, size: size, seed: 8)
        let batchGradient = network.gradientOfMeanLoss(features: features, labels: labels)
        var sum = [Double](repeating: 0, count: network.parameterCount)
        var visited: [Int] = []
        var perExample: [[Float]] = []
        features.withUnsafeBufferPointer { x in
            labels.withUnsafeBufferPointer { y in
                network.forEachExampleGradient(x.baseAddress!, labels: y.baseAddress!, batchSize: size) {
                    example, gradient in
                    visited.append(example)
                    perExample.append(Array(gradient))
                    for i in gradient.indices { sum[i] += Double(gradient[i]) }
                }
            }
        }
        #expect(visited == Array(0..<size))
        // Each example's gradient is that of a batch of one.
        let offset = network.inputShape.count
        let second = network.gradientOfMeanLoss(
            features: Array(features[offset..<(2 * offset)]), labels: [labels[1]])
        #expect(perExample[1] == second)
        // Averaging reorders Float32 sums of at most a few hundred terms: differences ~1e-7 per unit of gradient.
        let scale = Double(batchGradient.map { abs($0) }.max()!)
        var worst = 0.0
        for i in batchGradient.indices {
            worst = max(worst, abs(sum[i] / Double(size) - Double(batchGradient[i])))
        }
        #expect(scale > 1e-3)
        #expect(worst <= 1e-5 * max(scale, 1), "largest difference \(worst), gradient scale \(scale)")
        #expect(perExample[0] != perExample[1])
    }

    // MARK: - Parameters

    @Test func parametersAreContiguous() {
        for network in [tinyConvNet(seed: 1), smallMLP(seed: 1)] {
            #expect(network.parameterCount == network.layers.reduce(0) { $0 + $1.parameterCount })
            var next = 0
            for index in network.layers.indices {
                let range = network.parameterRange(ofLayer: index)
                #expect(range.lowerBound == next)
                #expect(range.count == network.layers[index].parameterCount)
                next = range.upperBound
            }
            #expect(next == network.parameterCount)
            #expect(network.parameters.count == network.parameterCount)
            #expect(network.gradients.count == network.parameterCount)
        }
    }

    @Test func initialisationIsDeterministicPerSeed() {
        let a = smallMLP(seed: 42).parameterVector()
        let b = smallMLP(seed: 42).parameterVector()
        let c = smallMLP(seed: 43).parameterVector()
        #expect(a == b)
        #expect(a != c)
        // Every layer with parameters is initialised (none left at zero), within its bound.
        let network = smallMLP(seed: 42)
        for index in network.layers.indices where network.layers[index].parameterCount > 0 {
            let slice = a[network.parameterRange(ofLayer: index)]
            #expect(slice.contains { $0 != 0 })
            let fanIn = Float(network.layers[index].inputShape.count)
            #expect(slice.allSatisfy { abs($0) <= 1 / fanIn.squareRoot() })
        }
        // Layers of equal shape get different weights (per-layer streams).
        let second = a[network.parameterRange(ofLayer: 3)]
        #expect(Array(second.prefix(50)) != Array(a[network.parameterRange(ofLayer: 1)].prefix(50)))
    }

    @Test func loadParametersRoundTrips() {
        let network = tinyConvNet(seed: 9)
        let vector = GradientCheck.randomValues(network.parameterCount, seed: 10)
        network.loadParameters(vector)
        #expect(network.parameterVector() == vector)
        #expect(Array(network.parameters) == vector)
        // Loading changes the model's output.
        let (features, labels) = batch(for: network, size: 2, seed: 11)
        let before = network.meanLossInDouble(features: features, labels: labels)
        network.loadParameters(vector.map { $0 * 0.5 })
        #expect(network.meanLossInDouble(features: features, labels: labels) != before)
    }

    @Test func architectureParameterCounts() {
        let mnist = FeatureShape(channels: 1, height: 28, width: 28)
        let expected: [ModelArchitecture: Int] = [.logreg: 7850, .mlp: 199_210, .cnn: 582_026]
        for (architecture, count) in expected {
            let layers = architecture.makeLayers(input: mnist, classCount: 10)
            #expect(layers.reduce(0) { $0 + $1.parameterCount } == count, "\(architecture)")
            #expect(layers.last?.outputShape.count == 10)
            #expect(
                architecture.fingerprint(input: mnist, classCount: 10) == "\(architecture.rawValue):1x28x28:10:\(count)"
            )
        }
        #expect(ModelArchitecture.logreg.makeNetwork(input: mnist, classCount: 10, seed: 1).parameterCount == 7850)
    }

    @Test func architectureNames() throws {
        #expect(try ModelArchitecture(name: "MLP") == .mlp)
        #expect(try ModelArchitecture(name: "cnn") == .cnn)
        do {
            _ = try ModelArchitecture(name: "resnet50")
            Issue.record("an unknown model name was accepted")
        } catch let error as SextantMLError {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("resnet50"))
            #expect(error.message.contains("logreg"))
        }
    }

    @Test func evaluateAndPerExampleLossesAgree() {
        let network = tinyConvNet(seed: 12)
        let (features, labels) = batch(for: network, size: 7, seed: 13)
        let dataset = Dataset(shape: network.inputShape, classCount: 3, features: features, labels: labels)
        // Batches of 3 do not divide 7: the last partial batch must be included.
        let evaluation = network.evaluate(on: dataset, batchSize: 3)
        let losses = network.perExampleLosses(on: dataset, batchSize: 3)
        #expect(evaluation.examples == 7)
        #expect(losses.count == 7)
        let reference = network.meanLossInDouble(features: features, labels: labels)
        #expect(abs(evaluation.loss - reference) < 1e-5)
        #expect(abs(losses.reduce(0.0) { $0 + Double($1) } / 7 - reference) < 1e-5)
    }
}
