/// Reinterprets `channels x height x width` features as one vector.
///
/// The memory layout does not change, so both passes are a plain copy.
package final class Flatten: Layer {
    package let inputShape: FeatureShape
    package let outputShape: FeatureShape

    package init(shape: FeatureShape) {
        inputShape = shape
        outputShape = FeatureShape(channels: shape.count)
    }

    package var summary: String { "flatten \(inputShape)->\(outputShape)" }
    package var parameterCount: Int { 0 }

    package func initializeParameters(
        _ parameters: UnsafeMutableBufferPointer<Float>, using generator: inout SeededGenerator
    ) {}

    package func forward(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        batchSize: Int, parameters: UnsafePointer<Float>
    ) {
        output.update(from: input, count: batchSize * inputShape.count)
    }

    package func backward(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>?, batchSize: Int,
        parameters: UnsafePointer<Float>, parameterGradients: UnsafeMutablePointer<Float>
    ) {
        inputGradient?.update(from: outputGradient, count: batchSize * inputShape.count)
    }

    package func trainingFlops(batchSize: Int, computesInputGradient: Bool) -> Double { 0 }
}
