import SextantML
import SextantScheduling

/// The server and client side of one simulated run: the global model, the accumulator and
/// server optimizer the daemon uses, and local training of each assigned task.
///
/// Memory: one network shared by every client (its parameters are loaded before each
/// task) and one delta per task in flight, kept from training until the scheduler
/// accumulates or discards it. A reference type because the simulation's observer
/// closures update it; not `Sendable` (used on one thread).
final class SimulatedFederation {
    let algorithm: String
    let network: Network
    let clientData: [Dataset]
    let clientIndex: [ClientID: Int]
    let testSet: Dataset
    let training: TrainingSection
    let seed: UInt64
    let evaluateEvery: Int

    var model: [Float]
    var accumulator: DeltaAccumulator
    var optimizer: ServerOptimizer
    private(set) var version = 0
    /// Deltas of trained tasks, by update id, until accumulated or discarded.
    var pendingDeltas: [Int64: [Float]] = [:]
    /// Tasks assigned by the event being handled, trained once it is done.
    var due: [DueTask] = []

    struct DueTask {
        var updateID: Int64
        var client: ClientID
        var steps: Int
        var baseVersion: Int
    }

    private(set) var points: [SimulationPoint] = []
    private(set) var updatesApplied = 0
    private(set) var tasksAssigned = 0
    private(set) var trainingSeconds = 0.0
    private(set) var evaluationSeconds = 0.0
    private var lastAggregationTime = 0.0
    private var evaluatedVersion = -1
    private let clock = ContinuousClock()

    init(runner: ExperimentRunner, algorithm: String) {
        self.algorithm = algorithm
        let configuration = runner.configuration
        clientData = runner.clientData
        clientIndex = Dictionary(uniqueKeysWithValues: runner.clientData.indices.map { (ExperimentRunner.clientID($0), $0) })
        testSet = runner.testSet
        training = configuration.training
        seed = configuration.run.seed
        evaluateEvery = runner.options.evaluateEvery
        // The server's initial model: same architecture and seed for every algorithm.
        network = runner.architecture.makeNetwork(
            input: testSet.shape, classCount: testSet.classCount, seed: configuration.run.seed)
        model = network.parameterVector()
        accumulator = DeltaAccumulator(parameterCount: network.parameterCount)
        optimizer = ServerOptimizer(parameterCount: network.parameterCount)
    }

    /// Trains every due task from the current model, as `sextant-client` would: a fresh
    /// SGD with the configuration's hyper-parameters, `steps` mini-batches of its own data.
    func trainDueTasks(baseVersion: Int) throws {
        guard !due.isEmpty else { return }
        precondition(baseVersion == version, "tasks based on version \(baseVersion), the model is at \(version)")
        let start = clock.now
        defer { trainingSeconds += (clock.now - start).inSeconds }
        for task in due {
            guard let index = clientIndex[task.client] else {
                throw RuntimeError(.protocolViolation, "the scheduler assigned unknown client \(task.client)")
            }
            precondition(task.baseVersion == version, "task \(task.updateID) is based on version \(task.baseVersion)")
            network.loadParameters(model)
            let optimizer = SGD(
                learningRate: Float(training.learningRate), momentum: Float(training.momentum),
                weightDecay: Float(training.weightDecay))
            var trainer = try Trainer(
                network: network, dataset: clientData[index], optimizer: optimizer, batchSize: training.batchSize,
                seed: seed &+ UInt64(task.updateID) &* 0x9E37_79B9_7F4A_7C15)
            trainer.train(steps: task.steps)
            let local = network.parameters
            pendingDeltas[task.updateID] = model.withUnsafeBufferPointer { base in
                [Float](unsafeUninitializedCapacity: base.count) { delta, count in
                    for i in 0..<base.count { delta[i] = local[i] - base[i] }
                    count = base.count
                }
            }
            tasksAssigned += 1
        }
        due.removeAll(keepingCapacity: true)
    }

    /// `bucket += weight * delta`, releasing the delta, as the server does.
    func accumulate(_ id: Int64, into bucket: BucketID, weight: Double) throws {
        guard let delta = pendingDeltas.removeValue(forKey: id) else {
            throw RuntimeError(.protocolViolation, "the scheduler accumulated update \(id), which was never trained")
        }
        delta.withUnsafeBufferPointer { accumulator.accumulate($0, weight: weight, into: bucket) }
    }

    /// Applies an aggregation with the server's optimizer and evaluates if this version is due.
    func aggregate(_ record: SchedulerSimulation<some Scheduler>.AggregationRecord) {
        model.withUnsafeMutableBufferPointer { optimizer.apply(record.aggregation, accumulator: &accumulator, to: $0) }
        version = record.aggregation.newVersion
        updatesApplied += record.aggregation.updates.count
        lastAggregationTime = record.time
        if version % evaluateEvery == 0 { evaluate(version: version, at: record.time) }
    }

    /// Evaluates the last version if the every-k rule skipped it.
    func finish() {
        if evaluatedVersion != version { evaluate(version: version, at: lastAggregationTime) }
    }

    func evaluate(version: Int, at time: Double) {
        let start = clock.now
        network.loadParameters(model)
        let evaluation = network.evaluate(on: testSet)
        evaluationSeconds += (clock.now - start).inSeconds
        evaluatedVersion = version
        points.append(
            SimulationPoint(
                algorithm: algorithm, version: version, virtualSeconds: time, accuracy: evaluation.accuracy,
                loss: evaluation.loss))
    }
}
