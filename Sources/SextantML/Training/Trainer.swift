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
        try dataset.checkTargets(for: network.task)
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
                    batches.targets.withUnsafeBufferPointer { t in
                        network.trainingStep(
                            x.baseAddress!,
                            targets: network.task.usesLabels ? .labels(y.baseAddress!) : .values(t.baseAddress!),
                            batchSize: size)
                    }
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

extension Dataset {
    /// Checks that the records carry what `task` trains on: labels in range, or targets of its width.
    package func checkTargets(for task: LearningTask) throws {
        if task.usesLabels {
            guard let maxLabel = labels.max(), Int(maxLabel) < task.classCount, labels.min()! >= 0 else {
                throw SextantMLError(code: .invalidArgument, "labels must lie in 0..<\(task.classCount) for \(task)")
            }
        } else {
            guard targets != nil, targetWidth == task.outputCount else {
                throw SextantMLError(
                    code: .invalidArgument,
                    "\(task) needs \(task.outputCount) target(s) per record, the data has \(targetWidth)")
            }
        }
    }

    /// The batch targets of the records from `start` on, for `task`.
    fileprivate func withTargets<R>(
        for task: LearningTask, from start: Int, _ body: (BatchTargets) -> R
    ) -> R {
        if task.usesLabels {
            return labels.withUnsafeBufferPointer { body(.labels($0.baseAddress! + start)) }
        }
        return targets!.withUnsafeBufferPointer { body(.values($0.baseAddress! + start * targetWidth)) }
    }
}

/// Loss and accuracy of a model on a dataset, with the task's metrics (docs/design.md 3, step 5:
/// stored with each checkpoint).
package struct Evaluation: Sendable, Equatable, Codable {
    package var loss: Double
    /// Classification accuracy; 0 for regression.
    package var accuracy: Double
    package var examples: Int
    /// The task's metrics by name (see ``MetricSummary/metrics``); nil in evaluations stored
    /// before tasks existed.
    package var metrics: [String: Double]?

    package init(loss: Double, accuracy: Double, examples: Int, metrics: [String: Double]? = nil) {
        self.loss = loss
        self.accuracy = accuracy
        self.examples = examples
        self.metrics = metrics
    }
}

extension Network {
    /// Mean loss, accuracy and the task's metrics over `dataset`, in batches of `batchSize`.
    package func evaluate(on dataset: Dataset, batchSize: Int = 500) -> Evaluation {
        let (totalLoss, summary) = evaluationSummary(on: dataset, batchSize: batchSize)
        let n = max(dataset.count, 1)
        let metrics = summary.metrics
        return Evaluation(
            loss: totalLoss / Double(n), accuracy: metrics["accuracy"] ?? 0, examples: dataset.count, metrics: metrics)
    }

    /// The summed loss and the mergeable metric summary of `dataset`: what a site reports so
    /// that a federation can combine evaluations without records (``MetricSummary/merge(_:)``).
    package func evaluationSummary(on dataset: Dataset, batchSize: Int = 500) -> (
        totalLoss: Double, summary: MetricSummary
    ) {
        var total = 0.0
        var summary = MetricSummary(task: task)
        let width = dataset.shape.count
        dataset.features.withUnsafeBufferPointer { x in
            var start = 0
            while start < dataset.count {
                let size = min(batchSize, dataset.count - start)
                let outputs = forward(x.baseAddress! + start * width, batchSize: size)
                dataset.withTargets(for: task, from: start) { targets in
                    total += task.evaluate(outputs: outputs, targets: targets, batchSize: size).totalLoss
                    guard let transform = dataset.targetTransform, case .values(let scaled) = targets else {
                        summary.add(outputs: outputs, targets: targets, batchSize: size)
                        return
                    }
                    // Metrics in the target's own units: predictions and targets mapped back.
                    let count = size * dataset.targetWidth
                    let predictions = (0..<count).map { transform.invert(outputs[$0]) }
                    let truths = (0..<count).map { transform.invert(scaled[$0]) }
                    truths.withUnsafeBufferPointer { truth in
                        summary.add(outputs: predictions, targets: .values(truth.baseAddress!), batchSize: size)
                    }
                }
                start += size
            }
        }
        return (total, summary)
    }

    /// Each example's loss, for membership-inference scores.
    package func perExampleLosses(on dataset: Dataset, batchSize: Int = 500) -> [Float] {
        var losses = [Float](repeating: 0, count: dataset.count)
        let width = dataset.shape.count
        dataset.features.withUnsafeBufferPointer { x in
            losses.withUnsafeMutableBufferPointer { out in
                var start = 0
                while start < dataset.count {
                    let size = min(batchSize, dataset.count - start)
                    let outputs = forward(x.baseAddress! + start * width, batchSize: size)
                    dataset.withTargets(for: task, from: start) { targets in
                        _ = task.evaluate(
                            outputs: outputs, targets: targets, batchSize: size,
                            perExampleLosses: out.baseAddress! + start)
                    }
                    start += size
                }
            }
        }
        return losses
    }
}
