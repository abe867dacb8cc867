import CBLAS

/// A 2-D convolution with a square kernel, a stride and symmetric zero padding, computed
/// as im2col plus one sgemm over the whole batch (and two in the backward pass). Weights are
/// `outChannels x (inChannels * k * k)` followed by one bias per output channel, as PyTorch
/// lays out `nn.Conv2d(in, out, k, stride, padding)`; the output side is
/// `floor((n + 2 padding - k) / stride) + 1`, as PyTorch computes it.
package final class Conv2d: Layer {
    package let inputShape: FeatureShape
    package let outputShape: FeatureShape
    private let outChannels: Int
    private let kernel: Int
    private let padding: Int
    private let stride: Int
    /// im2col of the last forward input: `(inChannels * k * k) x (batch * outPixels)`.
    private var columns: [Float] = []
    /// Output or output gradient reordered as `outChannels x (batch * outPixels)`.
    private var channelMajor: [Float] = []

    package init(input: FeatureShape, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0) {
        precondition(outChannels > 0 && kernel > 0 && stride > 0 && padding >= 0, "convolution sizes must be positive")
        precondition(
            input.height + 2 * padding >= kernel && input.width + 2 * padding >= kernel,
            "convolution kernel larger than its input")
        let oh = (input.height + 2 * padding - kernel) / stride + 1
        let ow = (input.width + 2 * padding - kernel) / stride + 1
        inputShape = input
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        outputShape = FeatureShape(channels: outChannels, height: oh, width: ow)
    }

    package var summary: String {
        let options = (stride == 1 ? "" : " stride \(stride)") + (padding == 0 ? "" : " padding \(padding)")
        return "conv \(kernel)x\(kernel)\(options) \(inputShape)->\(outputShape)"
    }
    private var patchSize: Int { inputShape.channels * kernel * kernel }
    private var outPixels: Int { outputShape.height * outputShape.width }
    package var parameterCount: Int { outChannels * patchSize + outChannels }

    /// `weight` `[out, in, k, k]` (index `((o * in + c) * k + ky) * k + kx`), then `bias` `[out]`.
    package var parameterTensors: [ParameterTensor] {
        [
            ParameterTensor(name: "weight", shape: [outChannels, inputShape.channels, kernel, kernel], offset: 0),
            ParameterTensor(name: "bias", shape: [outChannels], offset: outChannels * patchSize),
        ]
    }

    package func initializeParameters(
        _ parameters: UnsafeMutableBufferPointer<Float>, using generator: inout SeededGenerator
    ) {
        let bound = Float(1 / Double(patchSize).squareRoot())
        for i in parameters.indices {
            parameters[i] = Float.random(in: -bound...bound, using: &generator)
        }
    }

    package func forward(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        batchSize: Int, parameters: UnsafePointer<Float>
    ) {
        let columnsWidth = batchSize * outPixels
        grow(&columns, to: patchSize * columnsWidth)
        grow(&channelMajor, to: outChannels * columnsWidth)
        columns.withUnsafeMutableBufferPointer { columns in
            imageToColumns(input, columns.baseAddress!, batchSize: batchSize)
            channelMajor.withUnsafeMutableBufferPointer { result in
                // R[oc, B*P] = W[oc, patch] * columns[patch, B*P]
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outChannels), Int32(columnsWidth),
                    Int32(patchSize),
                    1, parameters, Int32(patchSize), columns.baseAddress, Int32(columnsWidth), 0,
                    result.baseAddress, Int32(columnsWidth))
                let bias = parameters + outChannels * patchSize
                for b in 0..<batchSize {
                    for oc in 0..<outChannels {
                        let src = result.baseAddress! + oc * columnsWidth + b * outPixels
                        let dst = output + (b * outChannels + oc) * outPixels
                        let shift = bias[oc]
                        for p in 0..<outPixels { dst[p] = src[p] + shift }
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
        let columnsWidth = batchSize * outPixels
        let biasGradient = parameterGradients + outChannels * patchSize
        biasGradient.initialize(repeating: 0, count: outChannels)
        channelMajor.withUnsafeMutableBufferPointer { gradient in
            for b in 0..<batchSize {
                for oc in 0..<outChannels {
                    let src = outputGradient + (b * outChannels + oc) * outPixels
                    let dst = gradient.baseAddress! + oc * columnsWidth + b * outPixels
                    var sum: Float = 0
                    for p in 0..<outPixels {
                        dst[p] = src[p]
                        sum += src[p]
                    }
                    biasGradient[oc] += sum
                }
            }
            columns.withUnsafeMutableBufferPointer { columns in
                // dW[oc, patch] = G[oc, B*P] * columns^T[B*P, patch]
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasTrans, Int32(outChannels), Int32(patchSize), Int32(columnsWidth),
                    1, gradient.baseAddress, Int32(columnsWidth), columns.baseAddress, Int32(columnsWidth), 0,
                    parameterGradients, Int32(patchSize))
                guard let inputGradient else { return }
                // dColumns[patch, B*P] = W^T[patch, oc] * G[oc, B*P], reusing the columns buffer.
                cblas_sgemm(
                    CblasRowMajor, CblasTrans, CblasNoTrans, Int32(patchSize), Int32(columnsWidth), Int32(outChannels),
                    1, parameters, Int32(patchSize), gradient.baseAddress, Int32(columnsWidth), 0,
                    columns.baseAddress, Int32(columnsWidth))
                columnsToImage(columns.baseAddress!, inputGradient, batchSize: batchSize)
            }
        }
    }

    package func trainingFlops(batchSize: Int, computesInputGradient: Bool) -> Double {
        let gemm = 2 * Double(batchSize * outPixels) * Double(patchSize) * Double(outChannels)
        return gemm * (computesInputGradient ? 3 : 2)
    }

    // MARK: - im2col

    /// The outputs along one side whose input under kernel tap `tap` is inside the image
    /// (`0 <= o * stride + tap - padding < size`); the others read padding zeros.
    @inline(__always)
    private func validOutputs(tap: Int, size: Int, outputs: Int) -> Range<Int> {
        let offset = tap - padding
        let low = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let lastInput = size - 1 - offset
        let high = lastInput < 0 ? 0 : min(outputs, lastInput / stride + 1)
        return min(low, high)..<high
    }

    /// Row `(c, ky, kx)` of the columns holds, for every image and output pixel, the input
    /// value under that kernel tap (zero in the padding). Each output row's in-bounds run
    /// is one contiguous copy (stride 1) or one strided gather; only the padding is zeroed.
    private func imageToColumns(_ input: UnsafePointer<Float>, _ columns: UnsafeMutablePointer<Float>, batchSize: Int) {
        let (h, w, oh, ow) = (inputShape.height, inputShape.width, outputShape.height, outputShape.width)
        let (columnsWidth, stride) = (batchSize * outPixels, stride)
        for b in 0..<batchSize {
            for c in 0..<inputShape.channels {
                let image = input + (b * inputShape.channels + c) * h * w
                for ky in 0..<kernel {
                    let rows = validOutputs(tap: ky, size: h, outputs: oh)
                    for kx in 0..<kernel {
                        let run = validOutputs(tap: kx, size: w, outputs: ow)
                        let out = columns + ((c * kernel + ky) * kernel + kx) * columnsWidth + b * outPixels
                        out.initialize(repeating: 0, count: rows.lowerBound * ow)
                        (out + rows.upperBound * ow).initialize(repeating: 0, count: (oh - rows.upperBound) * ow)
                        guard !run.isEmpty else {
                            (out + rows.lowerBound * ow).initialize(repeating: 0, count: rows.count * ow)
                            continue
                        }
                        for oy in rows {
                            let dst = out + oy * ow
                            dst.initialize(repeating: 0, count: run.lowerBound)
                            (dst + run.upperBound).initialize(repeating: 0, count: ow - run.upperBound)
                            let src = image + (oy * stride + ky - padding) * w + run.lowerBound * stride + kx - padding
                            let target = dst + run.lowerBound
                            if stride == 1 {
                                VectorRuns.copy(src, to: target, count: run.count)
                            } else {
                                for i in 0..<run.count { target[i] = src[i * stride] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of ``imageToColumns``: sums every in-bounds column entry back into its
    /// pixel, one image at a time so that its planes stay in cache.
    private func columnsToImage(_ columns: UnsafePointer<Float>, _ image: UnsafeMutablePointer<Float>, batchSize: Int) {
        let (h, w, oh, ow) = (inputShape.height, inputShape.width, outputShape.height, outputShape.width)
        let (columnsWidth, stride) = (batchSize * outPixels, stride)
        image.initialize(repeating: 0, count: batchSize * inputShape.count)
        for b in 0..<batchSize {
            for c in 0..<inputShape.channels {
                let plane = image + (b * inputShape.channels + c) * h * w
                for ky in 0..<kernel {
                    let rows = validOutputs(tap: ky, size: h, outputs: oh)
                    for kx in 0..<kernel {
                        let run = validOutputs(tap: kx, size: w, outputs: ow)
                        guard !run.isEmpty else { continue }
                        let row = columns + ((c * kernel + ky) * kernel + kx) * columnsWidth + b * outPixels
                        for oy in rows {
                            let src = row + oy * ow + run.lowerBound
                            let dst = plane + (oy * stride + ky - padding) * w + run.lowerBound * stride + kx - padding
                            if stride == 1 {
                                VectorRuns.add(src, into: dst, count: run.count)
                            } else {
                                for i in 0..<run.count { dst[i * stride] += src[i] }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Grows a scratch buffer (never shrinks it, so steady-state training allocates nothing).
@inline(__always)
func grow(_ buffer: inout [Float], to count: Int) {
    if buffer.count < count {
        buffer = [Float](repeating: 0, count: count)
    }
}
