import SextantML
import SextantPrivacy
import SextantRuntime

/// Record-level DP-SGD in a client (Abadi et al. 2016), with the shape of SextantML's
/// ``Trainer`` so a client can use either.
///
/// Every step draws a Poisson sample of the client's records with rate `q = B/n`, takes each
/// sampled example's gradient (``Network/forEachExampleGradient(_:labels:batchSize:_:)``),
/// clips it to L2 norm C, sums, adds `N(0, (zC)²)` per coordinate, divides by the
/// *expected* batch size B (not the drawn one, whose size would leak) and lets the
/// optimizer step. An empty draw still steps on pure noise, as the analysis assumes.
///
/// Both the sampling and the noise use one generator: the OS's secure one in production
/// (an adversary who could predict either could undo the guarantee), a seeded one in tests.
///
/// Each step is accounted as the sampled Gaussian mechanism (q, z); ``epsilon(delta:)``
/// reports the record-level ε of every step taken so far, including `stepsTaken` from
/// earlier tasks passed to the initializer (a client makes one trainer per assignment and
/// must carry its total over).
///
/// Not `Sendable`: it drives a ``Network``, which is used by one thread at a time.
package struct PrivateTrainer {
    package let network: Network
    package var optimizer: any Optimizer
    package let dataset: Dataset
    /// C, the per-example clip norm.
    package let clipNorm: Double
    /// z: noise std z·C on each step's sum.
    package let noiseMultiplier: Double
    /// B, what the sum is divided by.
    package let expectedBatchSize: Double
    /// q = B/n.
    package var sampleRate: Double { sampler.sampleRate }
    /// Steps accounted, including those of earlier tasks.
    package private(set) var stepsTaken: Int
    /// Examples clipped over this trainer's steps.
    package private(set) var clippedExamples = 0
    /// Examples seen over this trainer's steps.
    package private(set) var sampledExamples = 0

    private let sampler: PoissonSampler
    private var generator: AnyRandomSource
    private var features: [Float] = []
    private var labels: [Int32] = []
    /// The RDP curve of one step, so that ε after T steps is T times it, converted.
    private let stepCurve: [Double]
    private let orders: [Double]

    /// - Parameters:
    ///   - expectedBatchSize: B, in 1...dataset.count; the sampling rate is B / dataset.count.
    ///   - stepsTaken: steps already accounted for this client's records.
    ///   - generator: the randomness of sampling and noise; nil: the OS's secure generator.
    package init(
        network: Network, dataset: Dataset, optimizer: any Optimizer, clipNorm: Double, noiseMultiplier: Double,
        expectedBatchSize: Int, stepsTaken: Int = 0, generator: (any RandomNumberGenerator)? = nil,
        orders: [Double] = RDPAccountant.defaultOrders
    ) throws {
        guard dataset.shape.count == network.inputShape.count else {
            throw SextantMLError(
                code: .invalidArgument, "data has \(dataset.shape) features, the model expects \(network.inputShape)")
        }
        guard dataset.count > 0 else { throw SextantMLError(code: .invalidArgument, "the training set is empty") }
        guard let maxLabel = dataset.labels.max(), Int(maxLabel) < network.classCount, dataset.labels.min()! >= 0 else {
            throw SextantMLError(code: .invalidArgument, "labels must lie in 0..<\(network.classCount)")
        }
        guard clipNorm > 0, clipNorm.isFinite else {
            throw PrivacyError(.invalidArgument, "the per-example clip norm must be finite and > 0, got \(clipNorm)")
        }
        guard noiseMultiplier >= 0, noiseMultiplier.isFinite else {
            throw PrivacyError(.invalidArgument, "the noise multiplier must be finite and >= 0, got \(noiseMultiplier)")
        }
        guard expectedBatchSize >= 1, expectedBatchSize <= dataset.count else {
            throw PrivacyError(
                .invalidArgument,
                "the expected batch size must lie in 1...\(dataset.count) (the records), got \(expectedBatchSize)")
        }
        guard stepsTaken >= 0 else {
            throw PrivacyError(.invalidArgument, "steps taken must be >= 0, got \(stepsTaken)")
        }
        self.network = network
        self.dataset = dataset
        self.optimizer = optimizer
        self.clipNorm = clipNorm
        self.noiseMultiplier = noiseMultiplier
        self.stepsTaken = stepsTaken
        self.orders = orders
        sampler = PoissonSampler(expectedBatchSize: expectedBatchSize, populationSize: dataset.count)
        self.expectedBatchSize = sampler.expectedBatchSize
        if let generator {
            self.generator = AnyRandomSource(generator)
        } else {
            self.generator = AnyRandomSource(try SecureRandom())
        }
        stepCurve = try RDPAccountant.curve(
            noiseMultiplier: noiseMultiplier, sampleRate: sampler.sampleRate, steps: 1, orders: orders)
    }

    /// Runs `steps` DP-SGD steps. The loss and accuracy in the progress are of the sampled
    /// examples before each step; they are not private and must not leave the client.
    @discardableResult
    package mutating func train(steps: Int) -> Trainer.Progress {
        var progress = Trainer.Progress()
        var dpsgd = DPSGD(parameterCount: network.parameterCount, clipNorm: clipNorm, noiseMultiplier: noiseMultiplier)
        let network = self.network
        for _ in 0..<steps {
            let batch = sampler.sample(using: &generator)
            if !batch.isEmpty {
                gather(batch)
                let statistics = statistics(batchSize: batch.count)
                progress.totalLoss += statistics.totalLoss
                progress.correct += statistics.correct
                let (features, labels) = (self.features, self.labels)
                features.withUnsafeBufferPointer { x in
                    labels.withUnsafeBufferPointer { y in
                        network.forEachExampleGradient(x.baseAddress!, labels: y.baseAddress!, batchSize: batch.count) {
                            _, gradient in
                            dpsgd.accumulateClipped(gradient: UnsafeBufferPointer(gradient))
                        }
                    }
                }
            }
            sampledExamples += dpsgd.exampleCount
            clippedExamples += dpsgd.clippedCount
            let gradient = dpsgd.finish(expectedBatchSize: expectedBatchSize, using: &generator)
            gradient.withUnsafeBufferPointer { optimizer.update(network.parameters, gradients: $0) }
            stepsTaken += 1
            progress.steps += 1
            progress.examples += batch.count
        }
        return progress
    }

    /// The RDP of every step taken, as an accountant (to compose with other mechanisms).
    package var accountant: RDPAccountant {
        get throws(PrivacyError) {
            var accountant = RDPAccountant(orders: orders)
            try accountant.compose(noiseMultiplier: noiseMultiplier, sampleRate: sampleRate, steps: stepsTaken)
            return accountant
        }
    }

    /// The record-level (ε, δ) of every step taken (ε is infinite with z = 0).
    package func epsilon(delta: Double) throws(PrivacyError) -> RDPAccountant.Guarantee {
        try RDPAccountant.convert(rdp: stepCurve.map { $0 * Double(stepsTaken) }, orders: orders, delta: delta)
    }

    /// The subject-level guarantee for subjects with `groupSize` records.
    package func groupEpsilon(groupSize: Int, delta: Double) throws(PrivacyError) -> RDPAccountant.GroupGuarantee {
        try accountant.groupGuarantee(groupSize: groupSize, delta: delta)
    }

    private mutating func gather(_ batch: [Int]) {
        let width = dataset.shape.count
        features.removeAll(keepingCapacity: true)
        labels.removeAll(keepingCapacity: true)
        dataset.features.withUnsafeBufferPointer { all in
            for index in batch {
                features.append(contentsOf: all[(index * width)..<((index + 1) * width)])
                labels.append(dataset.labels[index])
            }
        }
    }

    /// Loss and accuracy of the gathered batch under the current parameters.
    private func statistics(batchSize: Int) -> SoftmaxCrossEntropy.Result {
        let classes = network.classCount
        return features.withUnsafeBufferPointer { x in
            labels.withUnsafeBufferPointer { y in
                let output = network.forward(x.baseAddress!, batchSize: batchSize)
                return SoftmaxCrossEntropy.evaluate(
                    logits: output, labels: y.baseAddress!, batchSize: batchSize, classes: classes)
            }
        }
    }
}

/// A type-erased generator, so that ``PrivateTrainer`` can hold a secure or a seeded one.
struct AnyRandomSource: RandomNumberGenerator {
    private var base: any RandomNumberGenerator

    init(_ base: any RandomNumberGenerator) {
        self.base = base
    }

    mutating func next() -> UInt64 {
        base.next()
    }
}
