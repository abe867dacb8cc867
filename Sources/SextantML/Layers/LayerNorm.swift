import Foundation

/// Layer normalisation over all of an example's features (`nn.LayerNorm([C, H, W])`, or
/// `nn.LayerNorm(n)` for a vector): `y = (x - mean) / sqrt(var + eps) * weight + bias`, the
/// mean and the (biased) variance taken over the example's own `C x H x W` values, with an
/// element-wise weight (initially 1) and bias (initially 0) of that shape; eps is PyTorch's
/// default 1e-5.
///
/// The normaliser chosen for federated models: it keeps no running statistics, so a model is
/// its parameters alone and FedAvg averages nothing but weights. BatchNorm is left out on
/// purpose: its running mean and variance are per-site state (estimated on each site's own,
/// non-IID data) that averaging combines wrongly, and its training-time batch statistics
/// differ between sites. GroupNorm is also free of running state and could be added alike.
package final class LayerNorm: Layer {
    package let inputShape: FeatureShape
    package var outputShape: FeatureShape { inputShape }
    package static let epsilon: Float = 1e-5

    package init(shape: FeatureShape) {
        inputShape = shape
    }

    package var summary: String { "layernorm \(inputShape)" }
    package var parameterCount: Int { 2 * inputShape.count }

    /// The normalised shape: `[C, H, W]` for images, `[n]` for vectors.
    private var normalizedShape: [Int] {
        inputShape.height == 1 && inputShape.width == 1
            ? [inputShape.channels] : [inputShape.channels, inputShape.height, inputShape.width]
    }

    /// `weight` then `bias`, each of the normalised shape, row-major.
    package var parameterTensors: [ParameterTensor] {
        [
            ParameterTensor(name: "weight", shape: normalizedShape, offset: 0),
            ParameterTensor(name: "bias", shape: normalizedShape, offset: inputShape.count),
        ]
    }

    package func initializeParameters(
        _ parameters: UnsafeMutableBufferPointer<Float>, using generator: inout SeededGenerator
    ) {
        let n = inputShape.count
        for i in 0..<n {
            parameters[i] = 1
            parameters[n + i] = 0
        }
    }

    /// The mean and `1 / sqrt(var + eps)` of one example, accumulated in Double.
    @inline(__always)
    private func statistics(_ x: UnsafePointer<Float>) -> (mean: Float, inverseDeviation: Float) {
        let n = inputShape.count
        var sum = 0.0
        for i in 0..<n { sum += Double(x[i]) }
        let mean = sum / Double(n)
        var squares = 0.0
        for i in 0..<n {
            let d = Double(x[i]) - mean
            squares += d * d
        }
        return (Float(mean), Float(1 / (squares / Double(n) + Double(Self.epsilon)).squareRoot()))
    }

    package func forward(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        batchSize: Int, parameters: UnsafePointer<Float>
    ) {
        let n = inputShape.count
        let (weight, bias) = (parameters, parameters + n)
        for b in 0..<batchSize {
            let (x, y) = (input + b * n, output + b * n)
            let (mean, inverse) = statistics(x)
            for i in 0..<n { y[i] = (x[i] - mean) * inverse * weight[i] + bias[i] }
        }
    }

    /// With `x̂` the normalised input and `g = dy ⊙ weight`:
    /// `dx = (g - mean(g) - x̂ mean(g ⊙ x̂)) / sqrt(var + eps)`, `dweight = Σ_batch dy ⊙ x̂`, `dbias = Σ_batch dy`.
    package func backward(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>?, batchSize: Int,
        parameters: UnsafePointer<Float>, parameterGradients: UnsafeMutablePointer<Float>
    ) {
        let n = inputShape.count
        let weight = parameters
        let (weightGradient, biasGradient) = (parameterGradients, parameterGradients + n)
        weightGradient.initialize(repeating: 0, count: 2 * n)
        for b in 0..<batchSize {
            let (x, dy) = (input + b * n, outputGradient + b * n)
            let (mean, inverse) = statistics(x)
            var meanG: Float = 0
            var meanGX: Float = 0
            for i in 0..<n {
                let normalized = (x[i] - mean) * inverse
                weightGradient[i] += dy[i] * normalized
                biasGradient[i] += dy[i]
                let g = dy[i] * weight[i]
                meanG += g
                meanGX += g * normalized
            }
            guard let dx = inputGradient.map({ $0 + b * n }) else { continue }
            meanG /= Float(n)
            meanGX /= Float(n)
            for i in 0..<n {
                let normalized = (x[i] - mean) * inverse
                dx[i] = (dy[i] * weight[i] - meanG - normalized * meanGX) * inverse
            }
        }
    }

    package func trainingFlops(batchSize: Int, computesInputGradient: Bool) -> Double {
        Double(batchSize * inputShape.count) * (computesInputGradient ? 16 : 10)
    }
}
