/// The shape of one example's features, channels first (a vector is `channels x 1 x 1`).
package struct FeatureShape: Hashable, Sendable, Codable, CustomStringConvertible {
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

    /// Switches between training and evaluation behaviour (only ``Dropout`` differs); the
    /// ``Network`` sets it before every pass. The default does nothing.
    func setTraining(_ isTraining: Bool)

    /// The layer's parameters as the tensors of the equivalent PyTorch module, in the order
    /// they lie in the layer's slice of the flat buffer. Empty for layers without parameters.
    var parameterTensors: [ParameterTensor] { get }
}

extension Layer {
    package func setTraining(_ isTraining: Bool) {}
    package var parameterTensors: [ParameterTensor] { [] }
}

/// One named tensor of a layer's (or, with ``Network/parameterTensors``, a network's)
/// parameters, as PyTorch's `state_dict` names and shapes it.
///
/// Memory layout: the `elementCount` values starting at `offset` are the tensor in row-major
/// (C) order, the last dimension fastest, which is the layout of a contiguous PyTorch tensor;
/// an exporter writes that range as is (safetensors: dtype F32, little-endian, this shape).
package struct ParameterTensor: Hashable, Sendable, CustomStringConvertible {
    /// `weight` or `bias` for a layer; `"<index>.weight"` for a network, the index being the
    /// layer's position in the equivalent `nn.Sequential`.
    package var name: String
    package var shape: [Int]
    /// Start within the layer's slice (for a network: within the whole flat vector).
    package var offset: Int

    package init(name: String, shape: [Int], offset: Int) {
        self.name = name
        self.shape = shape
        self.offset = offset
    }

    package var elementCount: Int { shape.reduce(1, *) }
    package var range: Range<Int> { offset..<(offset + elementCount) }
    package var description: String { "\(name) \(shape) at \(offset)" }
}
