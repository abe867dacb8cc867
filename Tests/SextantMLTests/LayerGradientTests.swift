import Foundation
import SextantML
import SextantTestSupport
import Testing

// Tolerances for the layer checks.
//
// Each check differentiates L = Σ r_k y_k (Double accumulation of the Float32 outputs y) by
// central differences with h = 1e-2. Linear and Conv2d are linear in their input and, separately,
// in their parameters, and ReLU, MaxPool2d and Flatten are linear between kinks that the
// inputs are built to stay away from, so L has no curvature along a perturbation and the
// truncation error is zero: what is left is the Float32 rounding of the few outputs that one
// coordinate touches, ~1e-7 in L, amplified by 1 / (2h) = 50 to ~5e-6 in the derivative
// (measured: at most 6e-6 over 80 coordinates of Linear and Conv2d). The checked derivatives are
// O(0.1 - 1) (r is uniform in [-1, 1]), so an absolute floor of 1e-4 (~20x the rounding) plus a
// relative tolerance of 1e-2 leaves a wide margin, while a wrong index, a missing term or a
// transposed weight gives errors of order 1 (GradientCheckSelfTests shows a 5 % error fails).
private let layerEpsilon: Float = 1e-2
private let layerRelativeTolerance = 1e-2
private let layerAbsoluteTolerance = 1e-4

/// Asserts a report passed and that the derivatives it checked were not all ~0 (a vacuous check).
private func expectPassed(
    _ report: GradientCheck.Report, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(report.passed, "\(what): \(report)", sourceLocation: sourceLocation)
    #expect(report.largestMagnitude > 0.05, "\(what): every checked derivative is ~0", sourceLocation: sourceLocation)
}

struct LinearShape: Sendable, CustomTestStringConvertible {
    var inputs: Int
    var outputs: Int
    var batch: Int
    var testDescription: String { "\(inputs)->\(outputs) batch \(batch)" }
}

struct ConvShape: Sendable, CustomTestStringConvertible {
    var channels: Int
    var height: Int
    var width: Int
    var outChannels: Int
    var kernel: Int
    var padding: Int
    var testDescription: String { "\(channels)x\(height)x\(width) k\(kernel) p\(padding) -> \(outChannels)" }
}

@Suite("Layer gradients (finite differences)")
struct LayerGradientTests {
    @Test(arguments: [
        LinearShape(inputs: 5, outputs: 3, batch: 4),
        LinearShape(inputs: 1, outputs: 1, batch: 1),
        LinearShape(inputs: 12, outputs: 7, batch: 3),
    ])
    func linear(_ shape: LinearShape) {
        let layer = Linear(inputs: shape.inputs, outputs: shape.outputs)
        let check = LayerGradientCheck(
            layer: layer, batchSize: shape.batch,
            input: GradientCheck.randomValues(shape.batch * shape.inputs, seed: 1), seed: 10)
        expectPassed(
            check.checkInputGradient(
                samples: 30, epsilon: layerEpsilon, relativeTolerance: layerRelativeTolerance,
                absoluteTolerance: layerAbsoluteTolerance), "input gradient")
        expectPassed(
            check.checkParameterGradient(
                samples: 30, epsilon: layerEpsilon, relativeTolerance: layerRelativeTolerance,
                absoluteTolerance: layerAbsoluteTolerance), "parameter gradient")
    }

    @Test(arguments: [
        ConvShape(channels: 1, height: 5, width: 5, outChannels: 2, kernel: 3, padding: 0),
        ConvShape(channels: 2, height: 5, width: 4, outChannels: 3, kernel: 3, padding: 1),
        ConvShape(channels: 3, height: 4, width: 4, outChannels: 2, kernel: 2, padding: 0),
        ConvShape(channels: 2, height: 4, width: 5, outChannels: 2, kernel: 3, padding: 2),
    ])
    func conv2d(_ shape: ConvShape) {
        let input = FeatureShape(channels: shape.channels, height: shape.height, width: shape.width)
        let layer = Conv2d(input: input, outChannels: shape.outChannels, kernel: shape.kernel, padding: shape.padding)
        let batch = 2
        let check = LayerGradientCheck(
            layer: layer, batchSize: batch, input: GradientCheck.randomValues(batch * input.count, seed: 2), seed: 20)
        expectPassed(
            check.checkInputGradient(
                samples: 40, epsilon: layerEpsilon, relativeTolerance: layerRelativeTolerance,
                absoluteTolerance: layerAbsoluteTolerance), "input gradient")
        expectPassed(
            check.checkParameterGradient(
                samples: 40, epsilon: layerEpsilon, relativeTolerance: layerRelativeTolerance,
                absoluteTolerance: layerAbsoluteTolerance), "parameter gradient")
        // The bias gradients (the last outChannels parameters) are always checked.
        let analytic = check.analyticGradients().parameters
        let biasIndices = Array((layer.parameterCount - shape.outChannels)..<layer.parameterCount)
        let bias = GradientCheck.check(
            loss: { check.loss(input: check.input, parameters: $0) }, at: check.parameters, analytic: analytic,
            coordinates: biasIndices, epsilon: layerEpsilon, relativeTolerance: layerRelativeTolerance,
            absoluteTolerance: layerAbsoluteTolerance)
        #expect(bias.passed, "bias gradient: \(bias)")
    }

    @Test func maxPool2d() {
        // 2 examples x 2 channels x 5 x 5: the trailing row and column do not fill a 2x2 window
        // and must get zero gradient. Values are a permutation of multiples of 0.05, so in every
        // window the maximum leads the runner-up by at least 0.05 > 2h: no perturbation of
        // h = 1e-2 changes which element is the maximum.
        let shape = FeatureShape(channels: 2, height: 5, width: 5)
        let layer = MaxPool2d(shape: shape)
        #expect(layer.outputShape == FeatureShape(channels: 2, height: 2, width: 2))
        let batch = 2
        var generator = SeededGenerator(seed: 3)
        let input = (0..<(batch * shape.count)).map { Float($0) * 0.05 - 2.5 }.shuffled(using: &generator)
        let check = LayerGradientCheck(layer: layer, batchSize: batch, input: input, seed: 30)
        expectPassed(
            check.checkInputGradient(
                samples: 100, epsilon: layerEpsilon, relativeTolerance: layerRelativeTolerance,
                absoluteTolerance: layerAbsoluteTolerance), "input gradient")
        let gradient = check.analyticGradients().input
        // Exactly one nonzero gradient per window: 2 x 2 x 4 windows.
        #expect(gradient.filter { $0 != 0 }.count == batch * layer.outputShape.count)
    }

    @Test func maxPool2dForwardPicksWindowMaxima() {
        let layer = MaxPool2d(shape: FeatureShape(channels: 1, height: 4, width: 4))
        let input: [Float] = [
            1, 2, -1, -2,
            3, 4, -3, -4,
            9, 0, 5, 7,
            0, 0, 6, 8,
        ]
        let check = LayerGradientCheck(layer: layer, batchSize: 1, input: input, seed: 31)
        #expect(check.output(input: input, parameters: []) == [4, -1, 9, 8])
    }

    @Test func relu() {
        // Inputs at least 0.1 away from the kink at 0, far more than h = 1e-2.
        let shape = FeatureShape(channels: 3, height: 2, width: 2)
        let layer = ReLU(shape: shape)
        let input = GradientCheck.valuesAwayFromZero(3 * shape.count, minimumMagnitude: 0.1, seed: 4)
        let check = LayerGradientCheck(layer: layer, batchSize: 3, input: input, seed: 40)
        expectPassed(
            check.checkInputGradient(
                samples: 36, epsilon: layerEpsilon, relativeTolerance: layerRelativeTolerance,
                absoluteTolerance: layerAbsoluteTolerance), "input gradient")
        #expect(check.output(input: input, parameters: []) == input.map { max($0, 0) })
        #expect(layer.parameterCount == 0)
    }

    @Test func flatten() {
        let shape = FeatureShape(channels: 2, height: 3, width: 2)
        let layer = Flatten(shape: shape)
        #expect(layer.outputShape == FeatureShape(channels: 12))
        let input = GradientCheck.randomValues(2 * shape.count, seed: 5)
        let check = LayerGradientCheck(layer: layer, batchSize: 2, input: input, seed: 50)
        expectPassed(
            check.checkInputGradient(
                samples: 24, epsilon: layerEpsilon, relativeTolerance: layerRelativeTolerance,
                absoluteTolerance: layerAbsoluteTolerance), "input gradient")
        #expect(check.output(input: input, parameters: []) == input)
        #expect(check.analyticGradients().input == check.projection)
    }

    @Test func linearForwardMatchesDefinition() {
        // W = [[1, 2], [3, 4], [5, 6]] (3 outputs x 2 inputs), b = [0.5, -1, 2].
        let layer = Linear(inputs: 2, outputs: 3)
        let parameters: [Float] = [1, 2, 3, 4, 5, 6, 0.5, -1, 2]
        let input: [Float] = [1, -1, 2, 0.5]
        let check = LayerGradientCheck(layer: layer, batchSize: 2, input: input, parameters: parameters, seed: 60)
        #expect(check.output(input: input, parameters: parameters) == [-0.5, -2, 1, 3.5, 7, 15])
    }

    @Test(arguments: [
        ConvShape(channels: 2, height: 4, width: 5, outChannels: 3, kernel: 3, padding: 1),
        ConvShape(channels: 1, height: 3, width: 3, outChannels: 2, kernel: 2, padding: 0),
    ])
    func conv2dForwardMatchesNaiveConvolution(_ shape: ConvShape) {
        let inputShape = FeatureShape(channels: shape.channels, height: shape.height, width: shape.width)
        let layer = Conv2d(
            input: inputShape, outChannels: shape.outChannels, kernel: shape.kernel, padding: shape.padding)
        let batch = 2
        let input = GradientCheck.randomValues(batch * inputShape.count, seed: 6)
        let check = LayerGradientCheck(layer: layer, batchSize: batch, input: input, seed: 61)
        let output = check.output(input: input, parameters: check.parameters)
        let out = layer.outputShape
        let (c, h, w, k, p) = (shape.channels, shape.height, shape.width, shape.kernel, shape.padding)
        var maxError: Float = 0
        for b in 0..<batch {
            for oc in 0..<out.channels {
                for oy in 0..<out.height {
                    for ox in 0..<out.width {
                        var sum = Double(check.parameters[out.channels * c * k * k + oc])
                        for ic in 0..<c {
                            for ky in 0..<k {
                                for kx in 0..<k {
                                    let (iy, ix) = (oy + ky - p, ox + kx - p)
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
        // Sums of at most 27 products of magnitude < 1 in Float32: rounding stays below 1e-5.
        #expect(maxError < 1e-5)
    }
}

@Suite("Softmax cross-entropy")
struct SoftmaxCrossEntropyTests {
    /// Reference loss per example, in Double.
    private func referenceLosses(_ logits: [Float], _ labels: [Int32], classes: Int) -> [Double] {
        labels.indices.map { row in
            let z = (0..<classes).map { Double(logits[row * classes + $0]) }
            let top = z.max()!
            return log(z.reduce(0.0) { $0 + exp($1 - top) }) + top - z[Int(labels[row])]
        }
    }

    private func meanLoss(_ logits: [Float], _ labels: [Int32], classes: Int) -> Double {
        logits.withUnsafeBufferPointer { z in
            labels.withUnsafeBufferPointer { y in
                SoftmaxCrossEntropy.evaluate(
                    logits: z.baseAddress!, labels: y.baseAddress!, batchSize: labels.count, classes: classes
                ).totalLoss / Double(labels.count)
            }
        }
    }

    @Test func gradientMatchesFiniteDifferences() {
        // The loss is smooth: with h = 1e-2 the truncation error of the central difference is
        // h² f'''/6 < 1e-5 (f''' of a log-sum-exp is below 0.4), and the Float32 rounding of the
        // per-example losses (~1e-7 each) becomes < 1e-5 after dividing by 2h; gradients are
        // O(0.01 - 0.2) (divided by the batch of 4), hence rtol 1e-2 and atol 1e-4.
        let classes = 5
        let labels: [Int32] = [0, 3, 4, 2]
        let logits = GradientCheck.randomValues(labels.count * classes, in: -2...2, seed: 8)
        var gradient = [Float](repeating: .nan, count: logits.count)
        logits.withUnsafeBufferPointer { z in
            labels.withUnsafeBufferPointer { y in
                gradient.withUnsafeMutableBufferPointer { g in
                    _ = SoftmaxCrossEntropy.evaluate(
                        logits: z.baseAddress!, labels: y.baseAddress!, batchSize: labels.count, classes: classes,
                        gradient: g.baseAddress!)
                }
            }
        }
        let report = GradientCheck.check(
            loss: { meanLoss($0, labels, classes: classes) }, at: logits, analytic: gradient,
            coordinates: Array(logits.indices), epsilon: 1e-2, relativeTolerance: 1e-2, absoluteTolerance: 1e-4)
        #expect(report.passed, "\(report)")
        #expect(report.largestMagnitude > 0.05)
        // Each row of the gradient of the mean loss sums to 0.
        for row in labels.indices {
            let sum = gradient[(row * classes)..<((row + 1) * classes)].reduce(0, +)
            #expect(abs(sum) < 1e-6)
        }
    }

    @Test func lossesAndAccuracyMatchReference() {
        let classes = 3
        let logits: [Float] = [
            2, 1, 0,  // predicts 0
            0, 3, 1,  // predicts 1
            1, 0, 5,  // predicts 2
            0.5, 0.2, 0.1,  // predicts 0
        ]
        let labels: [Int32] = [0, 2, 2, 1]
        var perExample = [Float](repeating: .nan, count: labels.count)
        let result = logits.withUnsafeBufferPointer { z in
            labels.withUnsafeBufferPointer { y in
                perExample.withUnsafeMutableBufferPointer { l in
                    SoftmaxCrossEntropy.evaluate(
                        logits: z.baseAddress!, labels: y.baseAddress!, batchSize: labels.count, classes: classes,
                        perExampleLosses: l.baseAddress!)
                }
            }
        }
        let reference = referenceLosses(logits, labels, classes: classes)
        #expect(result.correct == 2)
        // Float32 log-sum-exp of three terms: relative rounding ~1e-7.
        #expect(abs(result.totalLoss - reference.reduce(0, +)) < 1e-5)
        for (actual, expected) in zip(perExample, reference) {
            #expect(abs(Double(actual) - expected) < 1e-5)
        }
    }

    @Test func largeLogitsStayFinite() {
        let logits: [Float] = [1000, -1000, 999]
        let labels: [Int32] = [2]
        let loss = meanLoss(logits, labels, classes: 3)
        // log(1 + e^-1 + e^-2000) + 1000 - 999 = 1.3133
        #expect(loss.isFinite)
        #expect(abs(loss - 1.31326) < 1e-3)
    }
}
