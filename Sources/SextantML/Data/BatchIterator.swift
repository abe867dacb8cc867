/// Cycles through a dataset in shuffled mini-batches, reshuffling (seeded) at every epoch,
/// and gathers each batch into reusable contiguous buffers.
package struct BatchIterator {
    package let dataset: Dataset
    package let batchSize: Int
    package let dropsLastPartialBatch: Bool
    private var generator: SeededGenerator
    private var order: [Int]
    private var position = 0
    package private(set) var epoch = 0

    /// The current batch's features (`batchSize x shape`) and labels.
    package private(set) var features: [Float]
    package private(set) var labels: [Int32]
    /// The current batch's real-valued targets (`batchSize x targetWidth`; empty without targets).
    package private(set) var targets: [Float]

    package init(dataset: Dataset, batchSize: Int, seed: UInt64, dropsLastPartialBatch: Bool = false) {
        precondition(batchSize > 0, "batch size must be positive")
        precondition(dataset.count > 0, "cannot batch an empty dataset")
        self.dataset = dataset
        self.batchSize = min(batchSize, dataset.count)
        self.dropsLastPartialBatch = dropsLastPartialBatch
        generator = SeededGenerator(seed: seed)
        order = Array(0..<dataset.count)
        order.shuffle(using: &generator)
        features = [Float](repeating: 0, count: self.batchSize * dataset.shape.count)
        labels = [Int32](repeating: 0, count: self.batchSize)
        targets = [Float](repeating: 0, count: self.batchSize * dataset.targetWidth)
    }

    /// Batches in one epoch.
    package var batchesPerEpoch: Int {
        dropsLastPartialBatch ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// Gathers the next batch into ``features`` and ``labels`` and returns its size.
    package mutating func next() -> Int {
        let remaining = order.count - position
        if remaining == 0 || (dropsLastPartialBatch && remaining < batchSize) {
            order.shuffle(using: &generator)
            position = 0
            epoch += 1
        }
        let size = min(batchSize, order.count - position)
        let width = dataset.shape.count
        dataset.features.withUnsafeBufferPointer { source in
            features.withUnsafeMutableBufferPointer { destination in
                for row in 0..<size {
                    let index = order[position + row]
                    (destination.baseAddress! + row * width).update(
                        from: source.baseAddress! + index * width, count: width)
                }
            }
        }
        for row in 0..<size {
            labels[row] = dataset.labels[order[position + row]]
        }
        if let source = dataset.targets {
            let width = dataset.targetWidth
            for row in 0..<size {
                let index = order[position + row]
                for j in 0..<width { targets[row * width + j] = source[index * width + j] }
            }
        }
        position += size
        return size
    }
}
