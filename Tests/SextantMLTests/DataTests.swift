import SextantML
import SextantTestSupport
import Testing

/// `count` examples whose two features encode their index (i and -i) and whose label is i % 7.
private func indexedDataset(count: Int) -> Dataset {
    Dataset(
        shape: FeatureShape(channels: 2), classCount: 7,
        features: (0..<count).flatMap { [Float($0), -Float($0)] },
        labels: (0..<count).map { Int32($0 % 7) })
}

/// The example indices of the next `batches` batches, checking features and labels agree.
private func drawIndices(_ iterator: inout BatchIterator, batches: Int) -> [[Int]] {
    (0..<batches).map { _ in
        let size = iterator.next()
        return (0..<size).map { row in
            let index = Int(iterator.features[2 * row])
            #expect(iterator.features[2 * row + 1] == -Float(index), "features of one example split across rows")
            #expect(iterator.labels[row] == Int32(index % 7), "label not aligned with its features")
            return index
        }
    }
}

@Suite("Batches, datasets and normalisation")
struct DataTests {
    @Test func oneEpochVisitsEveryExampleOnce() {
        var iterator = BatchIterator(dataset: indexedDataset(count: 10), batchSize: 3, seed: 1)
        #expect(iterator.batchesPerEpoch == 4)
        let epoch = drawIndices(&iterator, batches: 4)
        #expect(epoch.map(\.count) == [3, 3, 3, 1])
        #expect(epoch.joined().sorted() == Array(0..<10))
        #expect(epoch.joined().elementsEqual(0..<10) == false, "the first epoch is not shuffled")
        #expect(iterator.epoch == 0)
        let second = drawIndices(&iterator, batches: 4)
        #expect(iterator.epoch == 1)
        #expect(second.joined().sorted() == Array(0..<10))
        #expect(Array(second.joined()) != Array(epoch.joined()), "the second epoch was not reshuffled")
    }

    @Test func shuffleIsDeterministicPerSeed() {
        var a = BatchIterator(dataset: indexedDataset(count: 20), batchSize: 4, seed: 5)
        var b = BatchIterator(dataset: indexedDataset(count: 20), batchSize: 4, seed: 5)
        var c = BatchIterator(dataset: indexedDataset(count: 20), batchSize: 4, seed: 6)
        let first = drawIndices(&a, batches: 15)
        #expect(first == drawIndices(&b, batches: 15))
        #expect(first != drawIndices(&c, batches: 15))
    }

    @Test func dropsLastPartialBatch() {
        var iterator = BatchIterator(
            dataset: indexedDataset(count: 10), batchSize: 4, seed: 2, dropsLastPartialBatch: true)
        #expect(iterator.batchesPerEpoch == 2)
        let batches = drawIndices(&iterator, batches: 6)
        #expect(batches.allSatisfy { $0.count == 4 })
        for epoch in 0..<3 {
            let indices = Array(batches[(2 * epoch)..<(2 * epoch + 2)].joined())
            #expect(Set(indices).count == 8)
        }
        #expect(iterator.epoch == 2)
    }

    @Test func batchLargerThanDataset() {
        var iterator = BatchIterator(dataset: indexedDataset(count: 3), batchSize: 10, seed: 3)
        #expect(iterator.batchSize == 3)
        #expect(drawIndices(&iterator, batches: 1)[0].sorted() == [0, 1, 2])
    }

    @Test func datasetSubsetsKeepRowsAligned() {
        var dataset = indexedDataset(count: 6)
        dataset.subjects = [10, 11, 12, 13, 14, 15]
        let subset = dataset.subset([4, 1, 4])
        #expect(subset.features == [4, -4, 1, -1, 4, -4])
        #expect(subset.labels == [4, 1, 4])
        #expect(subset.subjects == [14, 11, 14])
        #expect(dataset.prefix(2).labels == [0, 1])
        #expect(dataset.prefix(100).count == 6)
        #expect(dataset.classHistogram() == [1, 1, 1, 1, 1, 1, 0])
    }

    @Test func normalizationStandardizes() {
        var generator = SeededGenerator(seed: 4)
        let features = (0..<600).map { _ in Float(generator.nextNormal(mean: 3, standardDeviation: 2)) }
        var dataset = Dataset(
            shape: FeatureShape(channels: 3), classCount: 2, features: features,
            labels: [Int32](repeating: 0, count: 200))
        let fitted = Normalization(fitting: dataset)
        // 600 draws: the sample mean is within 5 standard errors (5 * 2 / sqrt(600) = 0.41) of 3.
        #expect(abs(fitted.mean - 3) < 0.41)
        #expect(abs(fitted.standardDeviation - 2) < 0.3)
        fitted.apply(to: &dataset)
        let n = Double(dataset.features.count)
        let mean = dataset.features.reduce(0.0) { $0 + Double($1) } / n
        let variance = dataset.features.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        // Float32 rounding of values of order 1: the statistics are exact to ~1e-6.
        #expect(abs(mean) < 1e-5)
        #expect(abs(variance.squareRoot() - 1) < 1e-5)
        // A constant dataset does not divide by zero.
        var constant = Dataset(shape: FeatureShape(channels: 1), classCount: 1, features: [2, 2], labels: [0, 0])
        Normalization(fitting: constant).apply(to: &constant)
        #expect(constant.features.allSatisfy { $0 == 0 })
    }

    @Test func syntheticClassificationIsDeterministicAndBalanced() {
        let problem = SyntheticClassification(features: 6, classCount: 4, seed: 11)
        let a = problem.makeDataset(count: 402)
        let b = SyntheticClassification(features: 6, classCount: 4, seed: 11).makeDataset(count: 402)
        #expect(a.features == b.features)
        #expect(a.labels == b.labels)
        #expect(a.shape == FeatureShape(channels: 6))
        #expect(a.classHistogram() == [101, 101, 100, 100])
        // Another stream is another sample of the same problem; another seed another problem.
        let test = problem.makeDataset(count: 402, stream: 1)
        #expect(test.features != a.features)
        let other = SyntheticClassification(features: 6, classCount: 4, seed: 12)
        #expect(other.classMeans != problem.classMeans)
        #expect(other.makeDataset(count: 402).features != a.features)
        // Rows are shuffled, not in a fixed class cycle.
        #expect(a.labels != (0..<402).map { Int32($0 % 4) })
        // Each class's mean feature vector is close to its class mean: 100 unit-variance draws
        // have a standard error of 0.1 per coordinate; 0.5 is 5 standard errors.
        let means = problem.classMeans
        for c in 0..<4 {
            let rows = a.labels.indices.filter { a.labels[$0] == Int32(c) }
            for j in 0..<6 {
                let average = rows.reduce(0.0) { $0 + Double(a.features[$1 * 6 + j]) } / Double(rows.count)
                #expect(abs(average - means[c][j]) < 0.5)
            }
        }
    }
}
