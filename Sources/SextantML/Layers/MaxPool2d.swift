/// Max pooling over non-overlapping `size x size` windows (stride = size, no padding;
/// a trailing row or column that does not fill a window is dropped, as in PyTorch).
package final class MaxPool2d: Layer {
    package let inputShape: FeatureShape
    package let outputShape: FeatureShape
    private let size: Int
    /// For every output element of the last forward pass, the input offset of its maximum.
    private var argmax: [Int32] = []

    package init(shape: FeatureShape, size: Int = 2) {
        precondition(size > 0 && shape.height >= size && shape.width >= size, "pooling window larger than its input")
        self.size = size
        inputShape = shape
        outputShape = FeatureShape(channels: shape.channels, height: shape.height / size, width: shape.width / size)
    }

    package var summary: String { "maxpool \(size) \(inputShape)->\(outputShape)" }
    package var parameterCount: Int { 0 }

    package func initializeParameters(
        _ parameters: UnsafeMutableBufferPointer<Float>, using generator: inout SeededGenerator
    ) {}

    package func forward(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        batchSize: Int, parameters: UnsafePointer<Float>
    ) {
        let planes = batchSize * inputShape.channels
        let (h, w, oh, ow) = (inputShape.height, inputShape.width, outputShape.height, outputShape.width)
        if argmax.count < planes * oh * ow {
            argmax = [Int32](repeating: 0, count: planes * oh * ow)
        }
        argmax.withUnsafeMutableBufferPointer { argmax in
            for plane in 0..<planes {
                let src = plane * h * w
                let dst = plane * oh * ow
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var best = src + oy * size * w + ox * size
                        var bestValue = input[best]
                        for ky in 0..<size {
                            let row = src + (oy * size + ky) * w + ox * size
                            for kx in 0..<size where input[row + kx] > bestValue {
                                bestValue = input[row + kx]
                                best = row + kx
                            }
                        }
                        output[dst + oy * ow + ox] = bestValue
                        argmax[dst + oy * ow + ox] = Int32(best)
                    }
                }
            }
        }
    }

    package func backward(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>?, batchSize: Int,
        parameters: UnsafePointer<Float>, parameterGradients: UnsafeMutablePointer<Float>
    ) {
        guard let inputGradient else { return }
        inputGradient.initialize(repeating: 0, count: batchSize * inputShape.count)
        argmax.withUnsafeBufferPointer { argmax in
            for i in 0..<(batchSize * outputShape.count) {
                inputGradient[Int(argmax[i])] += outputGradient[i]
            }
        }
    }

    package func trainingFlops(batchSize: Int, computesInputGradient: Bool) -> Double {
        Double(batchSize * inputShape.count)
    }
}
