import SextantAggregation
import SextantML
import SextantRuntime
import SextantScheduling

/// The client side of one simulated run, and its evaluation: local training of each
/// assigned task as `sextant-client` does it, and the test accuracy of the versions the
/// aggregation core produces. The server side (model, accumulator, optimizer) is the
/// ``AggregationCore`` inside ``SchedulerSimulation``, the same as the daemon's.
///
/// Memory: one network shared by every client (its parameters are loaded before each
/// task); the simulation keeps one delta per task in flight. A reference type because the
/// simulation's observer closures update it; not `Sendable` (used on one thread).
final class SimulatedFederation {
    let algorithm: String
    let network: Network
    let clientData: [Dataset]
    let clientIndex: [ClientID: Int]
    let testSet: Dataset
    let training: TrainingSection
    let seed: UInt64
    let evaluateEvery: Int
    let attackers: Int
    let attackScale: Float
    /// The accuracy whose holding for `stopHeld` evaluations ends the run, if any.
    let stopTarget: Double?
    let stopHeld: Int
    /// The model every algorithm starts from: same architecture and seed.
    let initialModel: [Float]

    private(set) var version = 0
    private(set) var points: [SimulationPoint] = []
    private(set) var updatesApplied = 0
    private(set) var tasksAssigned = 0
    private(set) var trainingSeconds = 0.0
    private(set) var evaluationSeconds = 0.0
    private var lastAggregationTime = 0.0
    private var lastModel: [Float]
    private var evaluatedVersion = -1
    /// Consecutive evaluations, up to the last, at or above `stopTarget`.
    private var streak = 0
    private let clock = ContinuousClock()

    init(runner: ExperimentRunner, algorithm: String) throws {
        self.algorithm = algorithm
        let configuration = runner.configuration
        clientData = runner.clientData
        clientIndex = Dictionary(
            uniqueKeysWithValues: runner.clientData.indices.map { (ExperimentRunner.clientID($0), $0) })
        testSet = runner.testSet
        training = configuration.training
        seed = configuration.run.seed
        evaluateEvery = runner.options.evaluateEvery
        attackers = runner.options.attackers
        attackScale = Float(runner.options.attackScale)
        stopTarget = runner.options.stopTarget
        stopHeld = runner.options.stopHeld
        network = try runner.model.makeNetwork(
            input: testSet.shape, classCount: testSet.classCount, seed: configuration.run.seed)
        initialModel = network.parameterVector()
        lastModel = initialModel
    }

    /// Trains one task from `model`, as `sextant-client` would: a fresh optimizer
    /// (`training.optimizer`, so momentum or Adam's moments start from zero on every task)
    /// with the configuration's hyper-parameters, `steps` mini-batches of its own data;
    /// returns the delta.
    func train(_ task: SchedulerSimulation<some Scheduler>.Task, from model: [Float]) throws -> [Float] {
        let start = clock.now
        defer { trainingSeconds += (clock.now - start).inSeconds }
        guard let index = clientIndex[task.client] else {
            throw RuntimeError(.protocolViolation, "the scheduler assigned unknown client \(task.client)")
        }
        network.loadParameters(model)
        let optimizer = try TrainingHyperparameters.makeOptimizer(
            name: training.optimizer, lr: training.learningRate, momentum: training.momentum,
            weightDecay: training.weightDecay)
        var trainer = try Trainer(
            network: network, dataset: clientData[index], optimizer: optimizer, batchSize: training.batchSize,
            seed: seed &+ UInt64(task.updateID) &* 0x9E37_79B9_7F4A_7C15)
        trainer.train(steps: task.steps)
        tasksAssigned += 1
        let local = network.parameters
        let scale: Float = index < attackers ? attackScale : 1
        return model.withUnsafeBufferPointer { base in
            [Float](unsafeUninitializedCapacity: base.count) { delta, count in
                for i in 0..<base.count { delta[i] = scale * (local[i] - base[i]) }
                count = base.count
            }
        }
    }

    /// Notes an aggregation the core applied and evaluates its model if this version is due.
    func aggregated(_ record: SchedulerSimulation<some Scheduler>.AggregationRecord, model: [Float]) {
        version = record.aggregation.newVersion
        updatesApplied += record.aggregation.updates.count
        lastAggregationTime = record.time
        lastModel = model
        if version % evaluateEvery == 0 { evaluate(model, version: version, at: record.time) }
    }

    /// Whether the last `stopHeld` evaluations all reached `stopTarget`: the run can stop.
    var heldTarget: Bool { stopTarget != nil && streak >= stopHeld }

    /// Evaluates the last version if the every-k rule skipped it.
    func finish() {
        if evaluatedVersion != version { evaluate(lastModel, version: version, at: lastAggregationTime) }
    }

    func evaluate(_ model: [Float], version: Int, at time: Double) {
        let start = clock.now
        network.loadParameters(model)
        let evaluation = network.evaluate(on: testSet)
        evaluationSeconds += (clock.now - start).inSeconds
        evaluatedVersion = version
        if let stopTarget { streak = evaluation.accuracy >= stopTarget ? streak + 1 : 0 }
        points.append(
            SimulationPoint(
                algorithm: algorithm, version: version, virtualSeconds: time, accuracy: evaluation.accuracy,
                loss: evaluation.loss))
    }
}
