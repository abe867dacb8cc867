/// Reinterprets `channels x height x width` features as one vector.
///
/// The memory layout does not change, so both passes are a plain copy.
public final class Flatten: Layer {
    public let inputShape: FeatureShape
    public let outputShape: FeatureShape

    public init(shape: FeatureShape) {
        inputShape = shape
        outputShape = FeatureShape(channels: shape.count)
    }

    public var summary: String { "flatten \(inputShape)->\(outputShape)" }
    public var parameterCount: Int { 0 }

    public func initializeParameters(_ parameters: UnsafeMutableBufferPointer<Float>, using generator: inout SeededGenerator) {}

    public func forward(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        batchSize: Int, parameters: UnsafePointer<Float>
    ) {
        output.update(from: input, count: batchSize * inputShape.count)
    }

    public func backward(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>?, batchSize: Int,
        parameters: UnsafePointer<Float>, parameterGradients: UnsafeMutablePointer<Float>
    ) {
        inputGradient?.update(from: outputGradient, count: batchSize * inputShape.count)
    }

    public func trainingFlops(batchSize: Int, computesInputGradient: Bool) -> Double { 0 }
}
