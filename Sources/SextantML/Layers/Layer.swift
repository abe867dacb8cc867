/// The shape of one example's features, channels first (a vector is `channels x 1 x 1`).
package struct FeatureShape: Hashable, Sendable, CustomStringConvertible {
    package var channels: Int
    package var height: Int
    package var width: Int

    package init(channels: Int, height: Int = 1, width: Int = 1) {
        self.channels = channels
        self.height = height
        self.width = width
    }

    package var count: Int { channels * height * width }

    package var description: String {
        height == 1 && width == 1 ? "\(channels)" : "\(channels)x\(height)x\(width)"
    }
}

/// One differentiable stage of a ``Network``.
///
/// A layer owns no parameters: its weights are a slice of the network's single flat
/// parameter buffer, handed in on every call, so that a whole model (or its gradient, or
/// a delta) is one contiguous vector. Layers may keep scratch memory (im2col columns,
/// pooling indices) between a forward pass and the matching backward pass, which is why
/// they are classes and why a network is used from one thread at a time.
package protocol Layer: AnyObject {
    /// A short description for summaries, such as `linear 784->200`.
    var summary: String { get }
    var inputShape: FeatureShape { get }
    var outputShape: FeatureShape { get }
    var parameterCount: Int { get }

    /// Writes the layer's initial weights (deterministic for a given generator state).
    func initializeParameters(_ parameters: UnsafeMutableBufferPointer<Float>, using generator: inout SeededGenerator)

    /// Computes `output` (batchSize x outputShape) from `input` (batchSize x inputShape).
    func forward(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        batchSize: Int, parameters: UnsafePointer<Float>)

    /// Writes (not accumulates) the parameter gradients and, when asked, the input gradient,
    /// given the same `input` as the last forward pass and the gradient of the output.
    func backward(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>?, batchSize: Int,
        parameters: UnsafePointer<Float>, parameterGradients: UnsafeMutablePointer<Float>)

    /// Floating-point operations of one forward plus backward pass, for throughput reports.
    func trainingFlops(batchSize: Int, computesInputGradient: Bool) -> Double
}
