import Foundation

// Element-wise layers without parameters. Each backward pass recomputes what it needs from
// the input (the ``Layer`` contract hands it the forward input), so none keeps scratch memory.

/// The hyperbolic tangent, element by element (`nn.Tanh`).
package final class Tanh: Layer {
    package let inputShape: FeatureShape
    package var outputShape: FeatureShape { inputShape }

    package init(shape: FeatureShape) {
        inputShape = shape
    }

    package var summary: String { "tanh" }
    package var parameterCount: Int { 0 }

    package func initializeParameters(
        _ parameters: UnsafeMutableBufferPointer<Float>, using generator: inout SeededGenerator
    ) {}

    package func forward(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        batchSize: Int, parameters: UnsafePointer<Float>
    ) {
        for i in 0..<(batchSize * inputShape.count) { output[i] = tanhf(input[i]) }
    }

    package func backward(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>?, batchSize: Int,
        parameters: UnsafePointer<Float>, parameterGradients: UnsafeMutablePointer<Float>
    ) {
        guard let inputGradient else { return }
        for i in 0..<(batchSize * inputShape.count) {
            let y = tanhf(input[i])
            inputGradient[i] = outputGradient[i] * (1 - y * y)
        }
    }

    package func trainingFlops(batchSize: Int, computesInputGradient: Bool) -> Double {
        Double(batchSize * inputShape.count) * (computesInputGradient ? 2 : 1)
    }
}

/// The logistic function `1 / (1 + e^-x)`, element by element (`nn.Sigmoid`).
package final class Sigmoid: Layer {
    package let inputShape: FeatureShape
    package var outputShape: FeatureShape { inputShape }

    package init(shape: FeatureShape) {
        inputShape = shape
    }

    package var summary: String { "sigmoid" }
    package var parameterCount: Int { 0 }

    package func initializeParameters(
        _ parameters: UnsafeMutableBufferPointer<Float>, using generator: inout SeededGenerator
    ) {}

    /// `1 / (1 + e^-x)` without overflow for large |x|.
    @inline(__always)
    static func logistic(_ x: Float) -> Float {
        if x >= 0 { return 1 / (1 + expf(-x)) }
        let e = expf(x)
        return e / (1 + e)
    }

    package func forward(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        batchSize: Int, parameters: UnsafePointer<Float>
    ) {
        for i in 0..<(batchSize * inputShape.count) { output[i] = Self.logistic(input[i]) }
    }

    package func backward(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>?, batchSize: Int,
        parameters: UnsafePointer<Float>, parameterGradients: UnsafeMutablePointer<Float>
    ) {
        guard let inputGradient else { return }
        for i in 0..<(batchSize * inputShape.count) {
            let y = Self.logistic(input[i])
            inputGradient[i] = outputGradient[i] * y * (1 - y)
        }
    }

    package func trainingFlops(batchSize: Int, computesInputGradient: Bool) -> Double {
        Double(batchSize * inputShape.count) * (computesInputGradient ? 2 : 1)
    }
}

/// The Gaussian error linear unit in its exact form, `x Φ(x) = x (1 + erf(x / √2)) / 2`,
/// which is what PyTorch's default `nn.GELU()` (`approximate='none'`) computes; not the
/// tanh approximation. Its derivative is `Φ(x) + x φ(x)`, φ the standard normal density.
package final class GELU: Layer {
    package let inputShape: FeatureShape
    package var outputShape: FeatureShape { inputShape }

    package init(shape: FeatureShape) {
        inputShape = shape
    }

    package var summary: String { "gelu" }
    package var parameterCount: Int { 0 }

    package func initializeParameters(
        _ parameters: UnsafeMutableBufferPointer<Float>, using generator: inout SeededGenerator
    ) {}

    private static let inverseSquareRootTwo: Float = 0.707_106_77
    private static let inverseSquareRootTwoPi: Float = 0.398_942_3

    package func forward(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        batchSize: Int, parameters: UnsafePointer<Float>
    ) {
        for i in 0..<(batchSize * inputShape.count) {
            let x = input[i]
            output[i] = 0.5 * x * (1 + erff(x * Self.inverseSquareRootTwo))
        }
    }

    package func backward(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>?, batchSize: Int,
        parameters: UnsafePointer<Float>, parameterGradients: UnsafeMutablePointer<Float>
    ) {
        guard let inputGradient else { return }
        for i in 0..<(batchSize * inputShape.count) {
            let x = input[i]
            let cdf = 0.5 * (1 + erff(x * Self.inverseSquareRootTwo))
            let density = Self.inverseSquareRootTwoPi * expf(-0.5 * x * x)
            inputGradient[i] = outputGradient[i] * (cdf + x * density)
        }
    }

    package func trainingFlops(batchSize: Int, computesInputGradient: Bool) -> Double {
        Double(batchSize * inputShape.count) * (computesInputGradient ? 3 : 1)
    }
}

/// Inverted dropout (`nn.Dropout(p)`): in training each value is zeroed with probability `p`
/// and the survivors are scaled by `1 / (1 - p)`, so evaluation is the identity.
///
/// The masks come from the layer's own seeded generator, which the ``Network`` seeds from its
/// seed and the layer's index (through ``initializeParameters(_:using:)``, as it seeds weights),
/// so a training run is reproducible; each training forward pass draws a fresh mask and the
/// backward pass applies the same one.
package final class Dropout: Layer {
    package let inputShape: FeatureShape
    package var outputShape: FeatureShape { inputShape }
    package let probability: Float
    private var generator: SeededGenerator
    private var isTraining = false
    /// The last training mask: 0 or `1 / (1 - p)` per value.
    private var mask: [Float] = []

    package init(shape: FeatureShape, probability: Float, seed: UInt64 = 0) {
        precondition(probability >= 0 && probability < 1, "dropout probability must lie in [0, 1)")
        inputShape = shape
        self.probability = probability
        generator = SeededGenerator(seed: seed)
    }

    package var summary: String { "dropout \(probability)" }
    package var parameterCount: Int { 0 }

    package func initializeParameters(
        _ parameters: UnsafeMutableBufferPointer<Float>, using generator: inout SeededGenerator
    ) {
        self.generator = SeededGenerator(seed: generator.next())
    }

    package func setTraining(_ isTraining: Bool) {
        self.isTraining = isTraining
    }

    package func forward(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        batchSize: Int, parameters: UnsafePointer<Float>
    ) {
        let count = batchSize * inputShape.count
        guard isTraining && probability > 0 else {
            output.update(from: input, count: count)
            return
        }
        grow(&mask, to: count)
        let keep = 1 / (1 - probability)
        // A value survives when a uniform draw in [0, 1) (24 random bits) is at least p.
        let threshold = UInt64((Double(probability) * 16_777_216).rounded(.up))
        mask.withUnsafeMutableBufferPointer { mask in
            for i in 0..<count {
                let draw = generator.next() >> 40
                mask[i] = draw >= threshold ? keep : 0
                output[i] = input[i] * mask[i]
            }
        }
    }

    package func backward(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>?, batchSize: Int,
        parameters: UnsafePointer<Float>, parameterGradients: UnsafeMutablePointer<Float>
    ) {
        guard let inputGradient else { return }
        let count = batchSize * inputShape.count
        guard isTraining && probability > 0 else {
            inputGradient.update(from: outputGradient, count: count)
            return
        }
        mask.withUnsafeBufferPointer { mask in
            for i in 0..<count { inputGradient[i] = outputGradient[i] * mask[i] }
        }
    }

    package func trainingFlops(batchSize: Int, computesInputGradient: Bool) -> Double {
        Double(batchSize * inputShape.count) * (computesInputGradient ? 2 : 1)
    }
}
