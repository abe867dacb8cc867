/// Standardisation `(x - mean) / standardDeviation` with one mean and deviation for all
/// features, as torchvision's `Normalize` does for single-channel images.
package struct Normalization: Sendable, Equatable, Codable {
    package var mean: Float
    package var standardDeviation: Float

    package init(mean: Float, standardDeviation: Float) {
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    /// The statistics of a dataset's features (computed in double precision).
    package init(fitting dataset: Dataset) {
        var sum = 0.0
        var squares = 0.0
        for x in dataset.features {
            sum += Double(x)
            squares += Double(x) * Double(x)
        }
        let n = Double(max(dataset.features.count, 1))
        let mean = sum / n
        let variance = max(squares / n - mean * mean, 0)
        self.init(mean: Float(mean), standardDeviation: Float(max(variance.squareRoot(), 1e-12)))
    }

    package func apply(to dataset: inout Dataset) {
        let (m, scale) = (mean, 1 / standardDeviation)
        dataset.features.withUnsafeMutableBufferPointer { x in
            for i in x.indices { x[i] = (x[i] - m) * scale }
        }
    }
}
