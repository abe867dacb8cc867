import Foundation
import SextantML
import SextantTestSupport
import Testing

// Tolerances, as in LayerGradientTests: L = Σ r_k y_k differentiated by central differences
// with h = 1e-2, atol 1e-4, rtol 1e-2. Conv2d (any stride), the pools and dropout with a fixed
// mask are linear in what is perturbed, so only Float32 rounding (~5e-6 in a derivative) is
// left. Tanh, sigmoid and GELU are smooth: the truncation error of a central difference is
// h² |f'''| / 6 per output, with |f'''| at most 2 (tanh), 0.125 (sigmoid) and 0.6 (GELU), so at
// most 3.4e-5 times |r| <= 1, below the absolute floor; a wrong derivative formula (say tanh's
// 1 - y instead of 1 - y²) is off by 10 % or more at these inputs.
private let epsilon: Float = 1e-2
private let relativeTolerance = 1e-2
private let absoluteTolerance = 1e-4

private func expectGradients(
    _ check: LayerGradientCheck, samples: Int, parameters: Bool = false,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let input = check.checkInputGradient(
        samples: samples, epsilon: epsilon, relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance)
    #expect(input.passed, "input gradient: \(input)", sourceLocation: sourceLocation)
    #expect(input.largestMagnitude > 0.05, "every checked derivative is ~0", sourceLocation: sourceLocation)
    guard parameters else { return }
    let weights = check.checkParameterGradient(
        samples: samples, epsilon: epsilon, relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance)
    #expect(weights.passed, "parameter gradient: \(weights)", sourceLocation: sourceLocation)
    #expect(weights.largestMagnitude > 0.05, "every checked derivative is ~0", sourceLocation: sourceLocation)
}

struct StridedConvShape: Sendable, CustomTestStringConvertible {
    var channels: Int
    var height: Int
    var width: Int
    var outChannels: Int
    var kernel: Int
    var stride: Int
    var padding: Int
    var testDescription: String { "\(channels)x\(height)x\(width) k\(kernel) s\(stride) p\(padding) -> \(outChannels)" }
}

struct PoolShape: Sendable, CustomTestStringConvertible {
    var kernel: Int
    var stride: Int
    var padding: Int
    var testDescription: String { "k\(kernel) s\(stride) p\(padding)" }
}

@Suite("Layers: strides, pools, activations, dropout")
struct LayerSetTests {
    static let stridedShapes = [
        StridedConvShape(channels: 2, height: 5, width: 5, outChannels: 3, kernel: 3, stride: 2, padding: 1),
        StridedConvShape(channels: 1, height: 6, width: 5, outChannels: 2, kernel: 2, stride: 2, padding: 0),
        StridedConvShape(channels: 2, height: 7, width: 6, outChannels: 2, kernel: 3, stride: 3, padding: 1),
    ]

    @Test(arguments: stridedShapes)
    func stridedConvolutionGradients(_ shape: StridedConvShape) {
        let input = FeatureShape(channels: shape.channels, height: shape.height, width: shape.width)
        let layer = Conv2d(
            input: input, outChannels: shape.outChannels, kernel: shape.kernel, stride: shape.stride,
            padding: shape.padding)
        let check = LayerGradientCheck(
            layer: layer, batchSize: 2, input: GradientCheck.randomValues(2 * input.count, seed: 70), seed: 71)
        expectGradients(check, samples: 40, parameters: true)
    }

    @Test(arguments: stridedShapes)
    func stridedConvolutionMatchesDefinition(_ shape: StridedConvShape) {
        let inputShape = FeatureShape(channels: shape.channels, height: shape.height, width: shape.width)
        let layer = Conv2d(
            input: inputShape, outChannels: shape.outChannels, kernel: shape.kernel, stride: shape.stride,
            padding: shape.padding)
        let (c, h, w, k, s, p) = (shape.channels, shape.height, shape.width, shape.kernel, shape.stride, shape.padding)
        let out = layer.outputShape
        // PyTorch's output size: floor((n + 2p - k) / s) + 1.
        #expect(out.height == (h + 2 * p - k) / s + 1 && out.width == (w + 2 * p - k) / s + 1)
        let batch = 2
        let input = GradientCheck.randomValues(batch * inputShape.count, seed: 72)
        let check = LayerGradientCheck(layer: layer, batchSize: batch, input: input, seed: 73)
        let output = check.output(input: input, parameters: check.parameters)
        var maxError: Float = 0
        for b in 0..<batch {
            for oc in 0..<out.channels {
                for oy in 0..<out.height {
                    for ox in 0..<out.width {
                        var sum = Double(check.parameters[out.channels * c * k * k + oc])
                        for ic in 0..<c {
                            for ky in 0..<k {
                                for kx in 0..<k {
                                    let (iy, ix) = (oy * s + ky - p, ox * s + kx - p)
                                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                    let weight = check.parameters[((oc * c + ic) * k + ky) * k + kx]
                                    sum += Double(weight) * Double(input[((b * c + ic) * h + iy) * w + ix])
                                }
                            }
                        }
                        let actual = output[((b * out.channels + oc) * out.height + oy) * out.width + ox]
                        maxError = max(maxError, abs(actual - Float(sum)))
                    }
                }
            }
        }
        // Float32 sums of at most 18 products of values in [-1, 1].
        #expect(maxError < 1e-5)
    }

    // MARK: - Pools

    static let poolShapes = [
        PoolShape(kernel: 2, stride: 2, padding: 0), PoolShape(kernel: 3, stride: 2, padding: 1),
        PoolShape(kernel: 3, stride: 1, padding: 0), PoolShape(kernel: 2, stride: 1, padding: 1),
    ]

    /// Distinct values (a permutation of multiples of 0.05): a window's maximum leads its
    /// runner-up by at least 0.05 > 2h, so no perturbation changes which element wins.
    private func distinctInput(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { Float($0) * 0.05 - Float(count) * 0.025 }.shuffled(using: &generator)
    }

    @Test(arguments: poolShapes)
    func maxPoolGradients(_ pool: PoolShape) {
        let shape = FeatureShape(channels: 2, height: 5, width: 6)
        let layer = MaxPool2d(shape: shape, size: pool.kernel, stride: pool.stride, padding: pool.padding)
        let check = LayerGradientCheck(
            layer: layer, batchSize: 2, input: distinctInput(2 * shape.count, seed: 74), seed: 75)
        expectGradients(check, samples: 60)
    }

    @Test(arguments: poolShapes)
    func averagePoolGradients(_ pool: PoolShape) {
        let shape = FeatureShape(channels: 2, height: 5, width: 6)
        let layer = AvgPool2d(shape: shape, size: pool.kernel, stride: pool.stride, padding: pool.padding)
        let check = LayerGradientCheck(
            layer: layer, batchSize: 2, input: GradientCheck.randomValues(2 * shape.count, seed: 76), seed: 77)
        expectGradients(check, samples: 60)
    }

    @Test func poolsForwardByHand() {
        // 1 x 3 x 3, kernel 2, stride 1, padding 1: a 4 x 4 output whose corner windows hold one pixel.
        let shape = FeatureShape(channels: 1, height: 3, width: 3)
        let input: [Float] = [
            1, -2, 3,
            -4, 5, -6,
            7, -8, 9,
        ]
        let maxPool = MaxPool2d(shape: shape, size: 2, stride: 1, padding: 1)
        #expect(maxPool.outputShape == FeatureShape(channels: 1, height: 4, width: 4))
        let maxCheck = LayerGradientCheck(layer: maxPool, batchSize: 1, input: input, seed: 1)
        // The padding never wins, even against negative values.
        #expect(
            maxCheck.output(input: input, parameters: []) == [
                1, 1, 3, 3,
                1, 5, 5, 3,
                7, 7, 9, 9,
                7, 7, 9, 9,
            ])
        let average = AvgPool2d(shape: shape, size: 2, stride: 1, padding: 1)
        let averageCheck = LayerGradientCheck(layer: average, batchSize: 1, input: input, seed: 1)
        // Padded zeros count: the top-left window is (0 + 0 + 0 + 1) / 4.
        #expect(
            averageCheck.output(input: input, parameters: []) == [
                0.25, -0.25, 0.25, 0.75,
                -0.75, 0, 0, -0.75,
                0.75, 0, 0, 0.75,
                1.75, -0.25, 0.25, 2.25,
            ])
        // Default stride is the kernel; a 3 x 3 input gives one 2 x 2 window.
        let tiled = AvgPool2d(shape: shape, size: 2)
        let tiledCheck = LayerGradientCheck(layer: tiled, batchSize: 1, input: input, seed: 1)
        #expect(tiledCheck.output(input: input, parameters: []) == [0])
    }

    // MARK: - Activations

    @Test(arguments: ["tanh", "sigmoid", "gelu"])
    func activationGradients(_ name: String) {
        let shape = FeatureShape(channels: 3, height: 2, width: 2)
        let layer: any Layer =
            switch name {
            case "tanh": Tanh(shape: shape)
            case "sigmoid": Sigmoid(shape: shape)
            default: GELU(shape: shape)
            }
        // Inputs over [-3, 3] cover both tails and the middle of each curve.
        let input = GradientCheck.randomValues(3 * shape.count, in: -3...3, seed: 78)
        let check = LayerGradientCheck(layer: layer, batchSize: 3, input: input, seed: 79)
        expectGradients(check, samples: 36)
        #expect(layer.parameterCount == 0)
    }

    @Test func activationValues() {
        let input: [Float] = [-3, -1, 0, 0.5, 2, 40, -40]
        let shape = FeatureShape(channels: input.count)
        func run(_ layer: any Layer) -> [Float] {
            LayerGradientCheck(layer: layer, batchSize: 1, input: input, seed: 1).output(input: input, parameters: [])
        }
        // Reference values of x Φ(x) (exact GELU, PyTorch's default) and the logistic function.
        let gelu: [Double] = [-0.0040496, -0.1586553, 0, 0.3457312, 1.9544997, 40, 0]
        let sigmoid: [Double] = [0.0474259, 0.2689414, 0.5, 0.6224593, 0.8807971, 1, 0]
        for (actual, expected) in zip(run(GELU(shape: shape)), gelu) {
            #expect(abs(Double(actual) - expected) < 2e-6, "gelu \(actual) vs \(expected)")
        }
        for (actual, expected) in zip(run(Sigmoid(shape: shape)), sigmoid) {
            #expect(abs(Double(actual) - expected) < 2e-6, "sigmoid \(actual) vs \(expected)")
        }
        for (actual, x) in zip(run(Tanh(shape: shape)), input) {
            #expect(abs(Double(actual) - tanh(Double(x))) < 2e-6)
        }
        #expect(run(Sigmoid(shape: shape)).allSatisfy { $0.isFinite })
    }

    // MARK: - Dropout

    @Test func dropoutIsIdentityInEvaluation() {
        let shape = FeatureShape(channels: 10)
        let layer = Dropout(shape: shape, probability: 0.5, seed: 3)
        let input = GradientCheck.randomValues(20, seed: 80)
        let check = LayerGradientCheck(layer: layer, batchSize: 2, input: input, seed: 81)
        #expect(check.output(input: input, parameters: []) == input)
        #expect(check.analyticGradients().input == check.projection)
    }

    @Test func dropoutTrainingMaskScalesAndMatchesBackward() {
        let count = 4000
        let p: Float = 0.25
        let layer = Dropout(shape: FeatureShape(channels: count), probability: p, seed: 4)
        layer.setTraining(true)
        let input = [Float](repeating: 2, count: count)
        let check = LayerGradientCheck(layer: layer, batchSize: 1, input: input, seed: 82)
        let output = check.output(input: input, parameters: [])
        // Survivors are scaled by 1 / (1 - p) (inverted dropout): 2 / 0.75.
        #expect(output.allSatisfy { $0 == 0 || abs($0 - 2 / 0.75) < 1e-6 })
        // The dropped fraction is p within 4 standard deviations (sqrt(p(1-p)/n) = 0.0068).
        let dropped = Double(output.filter { $0 == 0 }.count) / Double(count)
        #expect(abs(dropped - 0.25) < 0.03, "dropped \(dropped)")
        // The backward pass applies the forward pass's mask: for a fixed mask the layer is
        // linear, y = m x, so dL/dx = m r exactly.
        var y = [Float](repeating: .nan, count: count)
        var dx = [Float](repeating: .nan, count: count)
        let r = GradientCheck.randomValues(count, seed: 84)
        let noParameters: [Float] = [0]
        var noGradients: [Float] = [0]
        input.withUnsafeBufferPointer { x in
            layer.forward(x.baseAddress!, into: &y, batchSize: 1, parameters: noParameters)
            layer.backward(
                input: x.baseAddress!, outputGradient: r, inputGradient: &dx, batchSize: 1, parameters: noParameters,
                parameterGradients: &noGradients)
        }
        for i in 0..<count {
            #expect(dx[i] == r[i] * y[i] / 2)
        }
        #expect(y != output, "every training pass draws a new mask")
    }

    @Test func dropoutMasksAreSeeded() {
        func masks(seed: UInt64) -> [Float] {
            let layer = Dropout(shape: FeatureShape(channels: 64), probability: 0.5, seed: seed)
            layer.setTraining(true)
            let input = [Float](repeating: 1, count: 64)
            // The check seeds the layer through initializeParameters, as a Network does.
            return LayerGradientCheck(layer: layer, batchSize: 1, input: input, seed: seed).output(
                input: input, parameters: [])
        }
        #expect(masks(seed: 5) == masks(seed: 5))
        #expect(masks(seed: 5) != masks(seed: 6))
        // p = 0 is the identity in training too.
        let layer = Dropout(shape: FeatureShape(channels: 8), probability: 0, seed: 1)
        layer.setTraining(true)
        let input = GradientCheck.randomValues(8, seed: 83)
        #expect(
            LayerGradientCheck(layer: layer, batchSize: 1, input: input, seed: 1).output(input: input, parameters: [])
                == input)
    }
}

@Suite("Layer normalisation")
struct LayerNormTests {
    @Test(arguments: [FeatureShape(channels: 2, height: 2, width: 3), FeatureShape(channels: 7)])
    func gradients(_ shape: FeatureShape) {
        let layer = LayerNorm(shape: shape)
        let batch = 2
        // Weights away from 1 and biases away from 0, so the weight gradient's x̂ factor and the
        // input gradient's weight factor are both exercised.
        let parameters =
            GradientCheck.randomValues(shape.count, in: 0.5...1.5, seed: 85)
            + GradientCheck.randomValues(shape.count, in: -0.5...0.5, seed: 86)
        let input = GradientCheck.randomValues(batch * shape.count, in: -2...2, seed: 87)
        let check = LayerGradientCheck(layer: layer, batchSize: batch, input: input, parameters: parameters, seed: 88)
        // Parameters: L is linear in weight and bias, so the layer tolerances apply as is.
        let weights = check.checkParameterGradient(
            samples: 40, epsilon: 1e-2, relativeTolerance: 1e-2, absoluteTolerance: 1e-4)
        #expect(weights.passed, "parameter gradient: \(weights)")
        #expect(weights.largestMagnitude > 0.05)
        // Input: normalisation is curved (third derivatives up to ~1/σ³ ≈ 1 for σ ≈ 1.15 here), so
        // h = 3e-3 keeps the truncation error h² f''' / 6 near 2e-6; the Float32 rounding of the
        // ~12 outputs one input touches (~4e-7 in L) over 2h is ~7e-5: atol 2e-4, rtol 2e-2, as for
        // whole networks. A missing mean(g) or x̂ mean(g x̂) term is off by 10 % or more.
        let inputs = check.checkInputGradient(
            samples: 40, epsilon: 3e-3, relativeTolerance: 2e-2, absoluteTolerance: 2e-4)
        #expect(inputs.passed, "input gradient: \(inputs)")
        #expect(inputs.largestMagnitude > 0.05)
    }

    @Test func normalisesEachExampleAndNamesItsTensors() {
        let shape = FeatureShape(channels: 2, height: 1, width: 3)
        let layer = LayerNorm(shape: shape)
        // Initial weight 1 and bias 0: each example's outputs have mean 0 and variance 1 (less eps).
        let input: [Float] = [1, 2, 3, 4, 5, 6, -10, 0, 10, 20, 30, 40]
        let output = LayerGradientCheck(layer: layer, batchSize: 2, input: input, seed: 1).output(
            input: input, parameters: [Float](repeating: 1, count: 6) + [Float](repeating: 0, count: 6))
        for b in 0..<2 {
            let row = output[(b * 6)..<((b + 1) * 6)].map(Double.init)
            let mean = row.reduce(0, +) / 6
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 6
            #expect(abs(mean) < 1e-6)
            #expect(abs(variance - 1) < 1e-4)
        }
        // (1 - 3.5) / sqrt(35/12 + 1e-5) = -1.4638475
        #expect(abs(output[0] + 1.4638475) < 1e-5)
        #expect(layer.parameterTensors.map(\.shape) == [[2, 1, 3], [2, 1, 3]])
        #expect(LayerNorm(shape: FeatureShape(channels: 5)).parameterTensors.map(\.shape) == [[5], [5]])
    }
}
