/// Local training of a ``Network`` on a dataset: the loop a client runs for its assigned
/// number of steps, and centralized training runs for whole epochs.
package struct Trainer {
    package let network: Network
    package var optimizer: any Optimizer
    package private(set) var batches: BatchIterator

    package init(network: Network, dataset: Dataset, optimizer: any Optimizer, batchSize: Int, seed: UInt64) throws {
        guard dataset.shape.count == network.inputShape.count else {
            throw SextantMLError(
                code: .invalidArgument, "data has \(dataset.shape) features, the model expects \(network.inputShape)")
        }
        guard dataset.count > 0 else { throw SextantMLError(code: .invalidArgument, "the training set is empty") }
        guard let maxLabel = dataset.labels.max(), Int(maxLabel) < network.classCount, dataset.labels.min()! >= 0 else {
            throw SextantMLError(code: .invalidArgument, "labels must lie in 0..<\(network.classCount)")
        }
        self.network = network
        self.optimizer = optimizer
        batches = BatchIterator(dataset: dataset, batchSize: batchSize, seed: seed)
    }

    /// Statistics of a run of steps.
    package struct Progress: Sendable {
        package var steps = 0
        package var examples = 0
        package var totalLoss = 0.0
        package var correct = 0

        package init() {}

        package var meanLoss: Double { examples == 0 ? 0 : totalLoss / Double(examples) }
        package var accuracy: Double { examples == 0 ? 0 : Double(correct) / Double(examples) }
    }

    /// Runs `steps` optimizer steps on consecutive mini-batches.
    @discardableResult
    package mutating func train(steps: Int) -> Progress {
        var progress = Progress()
        for _ in 0..<steps {
            let size = batches.next()
            let result = batches.features.withUnsafeBufferPointer { x in
                batches.labels.withUnsafeBufferPointer { y in
                    network.trainingStep(x.baseAddress!, labels: y.baseAddress!, batchSize: size)
                }
            }
            optimizer.update(network.parameters, gradients: UnsafeBufferPointer(network.gradients))
            progress.steps += 1
            progress.examples += size
            progress.totalLoss += result.totalLoss
            progress.correct += result.correct
        }
        return progress
    }
}

/// Loss and accuracy of a model on a dataset.
package struct Evaluation: Sendable, Equatable, Codable {
    package var loss: Double
    package var accuracy: Double
    package var examples: Int

    package init(loss: Double, accuracy: Double, examples: Int) {
        self.loss = loss
        self.accuracy = accuracy
        self.examples = examples
    }
}

extension Network {
    /// Mean loss and accuracy over `dataset`, in batches of `batchSize`.
    package func evaluate(on dataset: Dataset, batchSize: Int = 500) -> Evaluation {
        var total = 0.0
        var correct = 0
        let width = dataset.shape.count
        dataset.features.withUnsafeBufferPointer { x in
            dataset.labels.withUnsafeBufferPointer { y in
                var start = 0
                while start < dataset.count {
                    let size = min(batchSize, dataset.count - start)
                    let logits = forward(x.baseAddress! + start * width, batchSize: size)
                    let result = SoftmaxCrossEntropy.evaluate(
                        logits: logits, labels: y.baseAddress! + start, batchSize: size, classes: classCount)
                    total += result.totalLoss
                    correct += result.correct
                    start += size
                }
            }
        }
        let n = max(dataset.count, 1)
        return Evaluation(loss: total / Double(n), accuracy: Double(correct) / Double(n), examples: dataset.count)
    }

    /// Each example's loss, for membership-inference scores.
    package func perExampleLosses(on dataset: Dataset, batchSize: Int = 500) -> [Float] {
        var losses = [Float](repeating: 0, count: dataset.count)
        let width = dataset.shape.count
        dataset.features.withUnsafeBufferPointer { x in
            dataset.labels.withUnsafeBufferPointer { y in
                losses.withUnsafeMutableBufferPointer { out in
                    var start = 0
                    while start < dataset.count {
                        let size = min(batchSize, dataset.count - start)
                        let logits = forward(x.baseAddress! + start * width, batchSize: size)
                        SoftmaxCrossEntropy.evaluate(
                            logits: logits, labels: y.baseAddress! + start, batchSize: size, classes: classCount,
                            perExampleLosses: out.baseAddress! + start)
                        start += size
                    }
                }
            }
        }
        return losses
    }
}
