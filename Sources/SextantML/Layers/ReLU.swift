/// The rectifier `max(0, x)`, element by element.
package final class ReLU: Layer {
    package let inputShape: FeatureShape
    package var outputShape: FeatureShape { inputShape }

    package init(shape: FeatureShape) {
        inputShape = shape
    }

    package var summary: String { "relu" }
    package var parameterCount: Int { 0 }

    package func initializeParameters(
        _ parameters: UnsafeMutableBufferPointer<Float>, using generator: inout SeededGenerator
    ) {}

    package func forward(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        batchSize: Int, parameters: UnsafePointer<Float>
    ) {
        for i in 0..<(batchSize * inputShape.count) {
            output[i] = max(input[i], 0)
        }
    }

    package func backward(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>?, batchSize: Int,
        parameters: UnsafePointer<Float>, parameterGradients: UnsafeMutablePointer<Float>
    ) {
        guard let inputGradient else { return }
        // Eight lanes at a time with a select, not a branch per element that a random sign
        // pattern mispredicts half the time.
        let count = batchSize * inputShape.count
        let zero = VectorRuns.Lanes(repeating: 0)
        var i = 0
        while i + 8 <= count {
            let passes = VectorRuns.load(input + i) .> zero
            VectorRuns.store(
                zero.replacing(with: VectorRuns.load(outputGradient + i), where: passes), inputGradient + i)
            i += 8
        }
        while i < count {
            inputGradient[i] = input[i] > 0 ? outputGradient[i] : 0
            i += 1
        }
    }

    package func trainingFlops(batchSize: Int, computesInputGradient: Bool) -> Double {
        Double(batchSize * inputShape.count) * (computesInputGradient ? 2 : 1)
    }
}
