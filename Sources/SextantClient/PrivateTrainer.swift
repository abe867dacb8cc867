import SextantML
import SextantPrivacy
import SextantRuntime

/// DP-SGD in a client, record-level (Abadi et al. 2016) or subject-level (user-level DP-SGD,
/// McMahan et al. 2018), with the shape of SextantML's ``Trainer`` so a client can use either.
///
/// Record level: every step draws a Poisson sample of the client's records with rate
/// `q = B/n`, takes each sampled example's gradient
/// (``Network/forEachExampleGradient(_:labels:batchSize:_:)``), clips it to L2 norm C, sums,
/// adds `N(0, (zC)²)` per coordinate, divides by the *expected* batch size B (not the drawn
/// one, whose size would leak) and lets the optimizer step. An empty draw still steps on
/// pure noise, as the analysis assumes.
///
/// Subject level (``PrivacyUnit/subject``): every step draws a Poisson sample of the
/// client's *subjects* with the configured rate q; each sampled subject contributes the mean
/// gradient of all its records in the silo (one batched pass), clipped to C; the sum gets
/// `N(0, (zC)²)` and is divided by the expected number of subjects `q·n_s`. The mean rather
/// than the sum: its norm does not grow with the subject's record count, so one C suits
/// subjects with one record or a hundred and every sampled subject weighs the same; either
/// way one subject moves the noised sum by at most C (docs/design.md 7).
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
    /// B, what the sum is divided by: the expected records (or subjects) of a step.
    package let expectedBatchSize: Double
    /// What one clipped contribution stands for.
    package let unit: PrivacyUnit
    /// With ``PrivacyUnit/subject``: the silo's records grouped by subject.
    package let subjects: SubjectGroups?
    /// q = B/n.
    package var sampleRate: Double { sampler.sampleRate }
    /// Steps accounted, including those of earlier tasks.
    package private(set) var stepsTaken: Int
    /// Contributions (examples or subjects) clipped over this trainer's steps.
    package private(set) var clippedExamples = 0
    /// Contributions (examples or subjects) seen over this trainer's steps.
    package private(set) var sampledExamples = 0

    private let sampler: PoissonSampler
    private var generator: AnyRandomSource
    private var features: [Float] = []
    private var labels: [Int32] = []
    /// The RDP curve of one step, so that ε after T steps is T times it, converted.
    private let stepCurve: [Double]
    private let orders: [Double]

    /// How a step samples its contributions.
    ///
    /// `Sendable`: a plain value.
    package enum Sampling: Sendable, Equatable {
        /// Records with rate `B/n`; the sum is divided by B.
        case records(expectedBatchSize: Int)
        /// Subjects with rate q (the same in every silo, so the server can account it); the
        /// sum is divided by `q·n_s`.
        case subjects(sampleRate: Double)
    }

    /// Record-level DP-SGD with expected batch size `expectedBatchSize` (B, in
    /// 1...dataset.count; the sampling rate is B / dataset.count).
    package init(
        network: Network, dataset: Dataset, optimizer: any Optimizer, clipNorm: Double, noiseMultiplier: Double,
        expectedBatchSize: Int, stepsTaken: Int = 0, generator: (any RandomNumberGenerator)? = nil,
        orders: [Double] = RDPAccountant.defaultOrders
    ) throws {
        try self.init(
            network: network, dataset: dataset, optimizer: optimizer, clipNorm: clipNorm,
            noiseMultiplier: noiseMultiplier, sampling: .records(expectedBatchSize: expectedBatchSize),
            stepsTaken: stepsTaken, generator: generator, orders: orders)
    }

    /// - Parameters:
    ///   - sampling: records with an expected batch size, or subjects with a rate.
    ///   - stepsTaken: steps already accounted for this client's records (or subjects).
    ///   - generator: the randomness of sampling and noise; nil: the OS's secure generator.
    package init(
        network: Network, dataset: Dataset, optimizer: any Optimizer, clipNorm: Double, noiseMultiplier: Double,
        sampling: Sampling, stepsTaken: Int = 0, generator: (any RandomNumberGenerator)? = nil,
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
        switch sampling {
        case .records(let expectedBatchSize):
            guard expectedBatchSize >= 1, expectedBatchSize <= dataset.count else {
                throw PrivacyError(
                    .invalidArgument,
                    "the expected batch size must lie in 1...\(dataset.count) (the records), got \(expectedBatchSize)")
            }
            unit = .record
            subjects = nil
            sampler = PoissonSampler(expectedBatchSize: expectedBatchSize, populationSize: dataset.count)
        case .subjects(let sampleRate):
            guard sampleRate > 0, sampleRate <= 1 else {
                throw PrivacyError(
                    .invalidArgument, "the subject sampling rate must lie in (0, 1], got \(sampleRate)")
            }
            guard let ids = dataset.subjects else {
                throw PrivacyError(
                    .invalidArgument,
                    "subject-level DP needs each record's subject (data.subject, or a dataset with subjects)")
            }
            let groups = try SubjectGroups(subjects: ids)
            unit = .subject
            subjects = groups
            sampler = PoissonSampler(sampleRate: sampleRate, populationSize: groups.count)
        }
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
            if let subjects {
                for subject in batch {
                    let records = subjects.records[subject]
                    gather(records)
                    let statistics = subjectGradient(records: records.count)
                    progress.totalLoss += statistics.totalLoss
                    progress.correct += statistics.correct
                    progress.examples += records.count
                    dpsgd.accumulateClipped(gradient: UnsafeBufferPointer(network.gradients))
                }
            } else if !batch.isEmpty {
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
            if subjects == nil { progress.examples += batch.count }
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

    /// The group-privacy guarantee for subjects with `groupSize` records, from the
    /// record-level one (meaningful for ``PrivacyUnit/record`` only; a subject-level trainer's
    /// ``epsilon(delta:)`` is the subject's already).
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

    /// One pass over the gathered records of one subject: fills the network's gradients with
    /// the gradient of their mean loss (the mean of their gradients) and returns the loss.
    private func subjectGradient(records: Int) -> LossStatistics {
        features.withUnsafeBufferPointer { x in
            labels.withUnsafeBufferPointer { y in
                network.trainingStep(x.baseAddress!, labels: y.baseAddress!, batchSize: records)
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
