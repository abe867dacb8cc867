/// A seeded synthetic classification problem: class-conditional Gaussians whose means are
/// drawn at random, for tests and experiments that need data of a known structure.
package struct SyntheticClassification: Sendable {
    package var features: Int
    package var classCount: Int
    /// Distance scale between class means relative to the unit noise: larger is easier.
    package var separation: Double
    package var seed: UInt64

    package init(features: Int, classCount: Int, separation: Double = 2, seed: UInt64) {
        precondition(features > 0 && classCount > 1, "need at least one feature and two classes")
        self.features = features
        self.classCount = classCount
        self.separation = separation
        self.seed = seed
    }

    /// The class means (classCount x features), fixed by the seed.
    package var classMeans: [[Double]] {
        var generator = SeededGenerator(seed: seed)
        let scale = separation / Double(features).squareRoot()
        return (0..<classCount).map { _ in (0..<features).map { _ in generator.nextNormal() * scale * 2 } }
    }

    /// `count` examples with balanced classes; `stream` selects an independent sample
    /// (say 0 for training, 1 for testing) from the same distribution.
    package func makeDataset(count: Int, stream: UInt64 = 0) -> Dataset {
        let means = classMeans
        var generator = SeededGenerator(seed: seed).derived(stream + 1)
        var values = [Float]()
        values.reserveCapacity(count * features)
        var labels = [Int32]()
        for i in 0..<count {
            let label = i % classCount
            labels.append(Int32(label))
            for j in 0..<features {
                values.append(Float(means[label][j] + generator.nextNormal()))
            }
        }
        // Shuffle rows so that classes are interleaved at random, not in a fixed cycle.
        var order = Array(0..<count)
        order.shuffle(using: &generator)
        let dataset = Dataset(
            shape: FeatureShape(channels: features), classCount: classCount, features: values, labels: labels)
        return dataset.subset(order)
    }
}
