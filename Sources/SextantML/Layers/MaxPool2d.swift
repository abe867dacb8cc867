/// The window geometry shared by ``MaxPool2d`` and ``AvgPool2d``: square `kernel x kernel`
/// windows every `stride` pixels over an input padded by `padding` on every side. The
/// output side is `floor((n + 2 padding - kernel) / stride) + 1` (PyTorch's rule without
/// `ceil_mode`), so a trailing row or column that does not fill a window is dropped.
struct PoolingWindows: Hashable, Sendable {
    var kernel: Int
    var stride: Int
    var padding: Int

    /// The output shape for `input`, or nil when no window fits.
    func outputShape(for input: FeatureShape) -> FeatureShape? {
        guard kernel > 0, stride > 0, padding >= 0,
            input.height + 2 * padding >= kernel, input.width + 2 * padding >= kernel
        else { return nil }
        return FeatureShape(
            channels: input.channels, height: (input.height + 2 * padding - kernel) / stride + 1,
            width: (input.width + 2 * padding - kernel) / stride + 1)
    }

    var summary: String {
        "\(kernel)" + (stride == kernel ? "" : " stride \(stride)") + (padding == 0 ? "" : " padding \(padding)")
    }

    /// The in-bounds input rows (or columns) of window `index` along a side of length `size`.
    @inline(__always)
    func span(_ index: Int, size: Int) -> Range<Int> {
        let start = index * stride - padding
        return max(start, 0)..<min(start + kernel, size)
    }
}

/// Max pooling over `kernel x kernel` windows with a stride (by default the kernel, so the
/// windows tile the input) and padding that never wins (PyTorch pads with -inf), like
/// `nn.MaxPool2d(kernel, stride, padding)`. The padding is at most half the kernel, as
/// PyTorch requires, so every window holds at least one real pixel.
package final class MaxPool2d: Layer {
    package let inputShape: FeatureShape
    package let outputShape: FeatureShape
    let windows: PoolingWindows
    /// For every output element of the last forward pass, the input offset of its maximum.
    private var argmax: [Int32] = []

    package init(shape: FeatureShape, size: Int = 2, stride: Int? = nil, padding: Int = 0) {
        let windows = PoolingWindows(kernel: size, stride: stride ?? size, padding: padding)
        precondition(padding <= size / 2, "pooling padding larger than half the window")
        guard let output = windows.outputShape(for: shape) else {
            preconditionFailure("pooling window larger than its input")
        }
        self.windows = windows
        inputShape = shape
        outputShape = output
    }

    package var summary: String { "maxpool \(windows.summary) \(inputShape)->\(outputShape)" }
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
            if windows.padding == 0 && windows.stride == windows.kernel {
                tiledForward(input, output, argmax.baseAddress!, planes: planes)
                return
            }
            for plane in 0..<planes {
                let src = plane * h * w
                let dst = plane * oh * ow
                for oy in 0..<oh {
                    let rows = windows.span(oy, size: h)
                    for ox in 0..<ow {
                        let columns = windows.span(ox, size: w)
                        var best = src + rows.lowerBound * w + columns.lowerBound
                        var bestValue = input[best]
                        for iy in rows {
                            let row = src + iy * w
                            for ix in columns where input[row + ix] > bestValue {
                                bestValue = input[row + ix]
                                best = row + ix
                            }
                        }
                        output[dst + oy * ow + ox] = bestValue
                        argmax[dst + oy * ow + ox] = Int32(best)
                    }
                }
            }
        }
    }

    /// The forward pass when the windows tile the input (no padding, stride = kernel), the
    /// CNN's case: every window lies inside the image, so there are no bounds to clip. Ties
    /// go to the first maximum in row-major order, as in the general path.
    private func tiledForward(
        _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, _ argmax: UnsafeMutablePointer<Int32>,
        planes: Int
    ) {
        let (h, w, oh, ow, k) = (
            inputShape.height, inputShape.width, outputShape.height, outputShape.width, windows.kernel
        )
        for plane in 0..<planes {
            for oy in 0..<oh {
                let top = plane * h * w + oy * k * w
                let out = plane * oh * ow + oy * ow
                for ox in 0..<ow {
                    var best = top + ox * k
                    var bestValue = input[best]
                    for dy in 0..<k {
                        let row = top + dy * w + ox * k
                        for dx in 0..<k {
                            // Selects, not branches: which tap wins is data-dependent.
                            let value = input[row + dx]
                            let wins = value > bestValue
                            best = wins ? row + dx : best
                            bestValue = wins ? value : bestValue
                        }
                    }
                    output[out + ox] = bestValue
                    argmax[out + ox] = Int32(best)
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
        Double(batchSize * outputShape.count * windows.kernel * windows.kernel)
    }
}

/// Average pooling over `kernel x kernel` windows with a stride (by default the kernel) and
/// zero padding, like `nn.AvgPool2d(kernel, stride, padding)` with its defaults: padded
/// zeros count, so every window is divided by `kernel * kernel` (`count_include_pad=True`).
package final class AvgPool2d: Layer {
    package let inputShape: FeatureShape
    package let outputShape: FeatureShape
    let windows: PoolingWindows

    package init(shape: FeatureShape, size: Int = 2, stride: Int? = nil, padding: Int = 0) {
        let windows = PoolingWindows(kernel: size, stride: stride ?? size, padding: padding)
        precondition(padding <= size / 2, "pooling padding larger than half the window")
        guard let output = windows.outputShape(for: shape) else {
            preconditionFailure("pooling window larger than its input")
        }
        self.windows = windows
        inputShape = shape
        outputShape = output
    }

    package var summary: String { "avgpool \(windows.summary) \(inputShape)->\(outputShape)" }
    package var parameterCount: Int { 0 }

    package func initializeParameters(
        _ parameters: UnsafeMutableBufferPointer<Float>, using generator: inout SeededGenerator
    ) {}

    package func forward(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        batchSize: Int, parameters: UnsafePointer<Float>
    ) {
        let (h, w, oh, ow) = (inputShape.height, inputShape.width, outputShape.height, outputShape.width)
        let scale = 1 / Float(windows.kernel * windows.kernel)
        for plane in 0..<(batchSize * inputShape.channels) {
            let src = input + plane * h * w
            let dst = output + plane * oh * ow
            for oy in 0..<oh {
                let rows = windows.span(oy, size: h)
                for ox in 0..<ow {
                    let columns = windows.span(ox, size: w)
                    var sum: Float = 0
                    for iy in rows {
                        for ix in columns { sum += src[iy * w + ix] }
                    }
                    dst[oy * ow + ox] = sum * scale
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
        let (h, w, oh, ow) = (inputShape.height, inputShape.width, outputShape.height, outputShape.width)
        let scale = 1 / Float(windows.kernel * windows.kernel)
        inputGradient.initialize(repeating: 0, count: batchSize * inputShape.count)
        for plane in 0..<(batchSize * inputShape.channels) {
            let src = outputGradient + plane * oh * ow
            let dst = inputGradient + plane * h * w
            for oy in 0..<oh {
                let rows = windows.span(oy, size: h)
                for ox in 0..<ow {
                    let columns = windows.span(ox, size: w)
                    let share = src[oy * ow + ox] * scale
                    for iy in rows {
                        for ix in columns { dst[iy * w + ix] += share }
                    }
                }
            }
        }
    }

    package func trainingFlops(batchSize: Int, computesInputGradient: Bool) -> Double {
        Double(batchSize * outputShape.count * windows.kernel * windows.kernel) * (computesInputGradient ? 2 : 1)
    }
}
