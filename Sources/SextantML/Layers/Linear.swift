import CBLAS

/// A fully connected layer `y = W x + b`, with `W` stored row-major as `outputs x inputs`
/// followed by `b`, as PyTorch lays out `nn.Linear`.
package final class Linear: Layer {
    package let inputShape: FeatureShape
    package let outputShape: FeatureShape
    private let inputs: Int
    private let outputs: Int

    package init(inputs: Int, outputs: Int) {
        precondition(inputs > 0 && outputs > 0, "Linear layer sizes must be positive")
        self.inputs = inputs
        self.outputs = outputs
        inputShape = FeatureShape(channels: inputs)
        outputShape = FeatureShape(channels: outputs)
    }

    package var summary: String { "linear \(inputs)->\(outputs)" }
    package var parameterCount: Int { outputs * inputs + outputs }

    /// `weight` `[out, in]` (row `o` holds the weights of output `o`), then `bias` `[out]`.
    package var parameterTensors: [ParameterTensor] {
        [
            ParameterTensor(name: "weight", shape: [outputs, inputs], offset: 0),
            ParameterTensor(name: "bias", shape: [outputs], offset: outputs * inputs),
        ]
    }

    package func initializeParameters(
        _ parameters: UnsafeMutableBufferPointer<Float>, using generator: inout SeededGenerator
    ) {
        // Kaiming-uniform with a = sqrt(5), as PyTorch initialises nn.Linear.
        let bound = Float(1 / Double(inputs).squareRoot())
        for i in parameters.indices {
            parameters[i] = Float.random(in: -bound...bound, using: &generator)
        }
    }

    package func forward(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        batchSize: Int, parameters: UnsafePointer<Float>
    ) {
        let bias = parameters + outputs * inputs
        for row in 0..<batchSize {
            (output + row * outputs).update(from: bias, count: outputs)
        }
        // Y[B, out] = X[B, in] * W^T + Y
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(batchSize), Int32(outputs), Int32(inputs),
            1, input, Int32(inputs), parameters, Int32(inputs), 1, output, Int32(outputs))
    }

    package func backward(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>?, batchSize: Int,
        parameters: UnsafePointer<Float>, parameterGradients: UnsafeMutablePointer<Float>
    ) {
        // dW[out, in] = dY^T[out, B] * X[B, in]
        cblas_sgemm(
            CblasRowMajor, CblasTrans, CblasNoTrans, Int32(outputs), Int32(inputs), Int32(batchSize),
            1, outputGradient, Int32(outputs), input, Int32(inputs), 0, parameterGradients, Int32(inputs))
        let biasGradient = parameterGradients + outputs * inputs
        biasGradient.initialize(repeating: 0, count: outputs)
        for row in 0..<batchSize {
            let dy = outputGradient + row * outputs
            for j in 0..<outputs { biasGradient[j] += dy[j] }
        }
        if let inputGradient {
            // dX[B, in] = dY[B, out] * W[out, in]
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(batchSize), Int32(inputs), Int32(outputs),
                1, outputGradient, Int32(outputs), parameters, Int32(inputs), 0, inputGradient, Int32(inputs))
        }
    }

    package func trainingFlops(batchSize: Int, computesInputGradient: Bool) -> Double {
        let gemm = 2 * Double(batchSize) * Double(inputs) * Double(outputs)
        return gemm * (computesInputGradient ? 3 : 2)
    }
}
