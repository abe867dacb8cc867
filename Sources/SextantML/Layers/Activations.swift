import Foundation

// Element-wise layers without parameters. Each backward pass recomputes what it needs from
// the input (the ``Layer`` contract hands it the forward input), so none keeps scratch memory.

/// A function applied element by element, with its derivative: all a parameter-free
/// activation layer needs (``Elementwise``).
package protocol ElementwiseFunction {
    /// The name `summary` and model specs use.
    static var name: String { get }
    static func value(_ x: Float) -> Float
    /// d value / dx at `x`.
    static func derivative(_ x: Float) -> Float
}

/// A parameter-free layer applying `F` element by element. The backward pass recomputes
/// what it needs from the input (the ``Layer`` contract hands it the forward input), so it
/// keeps no scratch memory.
package final class Elementwise<F: ElementwiseFunction>: Layer {
    package let inputShape: FeatureShape
    package var outputShape: FeatureShape { inputShape }

    package init(shape: FeatureShape) {
        inputShape = shape
    }

    package var summary: String { F.name }
    package var parameterCount: Int { 0 }

    package func initializeParameters(
        _ parameters: UnsafeMutableBufferPointer<Float>, using generator: inout SeededGenerator
    ) {}

    package func forward(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        batchSize: Int, parameters: UnsafePointer<Float>
    ) {
        for i in 0..<(batchSize * inputShape.count) { output[i] = F.value(input[i]) }
    }

    package func backward(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>?, batchSize: Int,
        parameters: UnsafePointer<Float>, parameterGradients: UnsafeMutablePointer<Float>
    ) {
        guard let inputGradient else { return }
        for i in 0..<(batchSize * inputShape.count) { inputGradient[i] = outputGradient[i] * F.derivative(input[i]) }
    }

    package func trainingFlops(batchSize: Int, computesInputGradient: Bool) -> Double {
        Double(batchSize * inputShape.count) * (computesInputGradient ? 2 : 1)
    }
}

/// The hyperbolic tangent (`nn.Tanh`).
package enum TanhFunction: ElementwiseFunction {
    package static let name = "tanh"
    package static func value(_ x: Float) -> Float { tanhf(x) }
    package static func derivative(_ x: Float) -> Float {
        let y = tanhf(x)
        return 1 - y * y
    }
}

/// The logistic function `1 / (1 + e^-x)` (`nn.Sigmoid`).
package enum SigmoidFunction: ElementwiseFunction {
    package static let name = "sigmoid"
    /// Without overflow for large |x|.
    package static func value(_ x: Float) -> Float {
        if x >= 0 { return 1 / (1 + expf(-x)) }
        let e = expf(x)
        return e / (1 + e)
    }
    package static func derivative(_ x: Float) -> Float {
        let y = value(x)
        return y * (1 - y)
    }
}

/// The Gaussian error linear unit in its exact form, `x Φ(x) = x (1 + erf(x / √2)) / 2`,
/// which is what PyTorch's `nn.GELU()` computes by default (not the tanh approximation).
package enum GELUFunction: ElementwiseFunction {
    package static let name = "gelu"
    private static let inverseSquareRootTwo: Float = 0.707_106_77
    private static let inverseSquareRootTwoPi: Float = 0.398_942_3
    package static func value(_ x: Float) -> Float { 0.5 * x * (1 + erff(x * inverseSquareRootTwo)) }
    package static func derivative(_ x: Float) -> Float {
        let cdf = 0.5 * (1 + erff(x * inverseSquareRootTwo))
        return cdf + x * inverseSquareRootTwoPi * expf(-0.5 * x * x)
    }
}

package typealias Tanh = Elementwise<TanhFunction>
package typealias Sigmoid = Elementwise<SigmoidFunction>
package typealias GELU = Elementwise<GELUFunction>

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
