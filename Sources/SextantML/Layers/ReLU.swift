/// The rectifier `max(0, x)`, element by element.
public final class ReLU: Layer {
    public let inputShape: FeatureShape
    public var outputShape: FeatureShape { inputShape }

    public init(shape: FeatureShape) {
        inputShape = shape
    }

    public var summary: String { "relu" }
    public var parameterCount: Int { 0 }

    public func initializeParameters(_ parameters: UnsafeMutableBufferPointer<Float>, using generator: inout SeededGenerator) {}

    public func forward(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        batchSize: Int, parameters: UnsafePointer<Float>
    ) {
        for i in 0..<(batchSize * inputShape.count) {
            output[i] = max(input[i], 0)
        }
    }

    public func backward(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>?, batchSize: Int,
        parameters: UnsafePointer<Float>, parameterGradients: UnsafeMutablePointer<Float>
    ) {
        guard let inputGradient else { return }
        for i in 0..<(batchSize * inputShape.count) {
            inputGradient[i] = input[i] > 0 ? outputGradient[i] : 0
        }
    }

    public func trainingFlops(batchSize: Int, computesInputGradient: Bool) -> Double {
        Double(batchSize * inputShape.count) * (computesInputGradient ? 2 : 1)
    }
}
