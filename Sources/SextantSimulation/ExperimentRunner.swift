import Foundation
import Logging
import SextantAggregation
import SextantML
import SextantRuntime
import SextantScheduling

/// `sextant simulate`: runs federations on a virtual clock. Clients really train (the same
/// SextantML code as `sextant-client`, on their real partitions), but their compute time
/// is virtual: each client's mean seconds per step comes from `clients.speed(ofClient:seed:)`
/// (docs/design.md 5.3), every task is jittered, and a fixed latency stands for the network.
/// The schedulers are the daemon's (`SchedulerSection.makeScheduler` with `kind` set per
/// algorithm), driven by ``SchedulerSimulation``, and aggregation goes through
/// ``DeltaAccumulator`` and ``ServerOptimizer`` as in the server.
///
/// Not `Sendable`: it holds the loaded data and is used from one thread.
package struct ExperimentRunner {
    package struct Options: Sendable, Equatable {
        package var algorithms: [SchedulerKind]
        /// Stop an algorithm once its virtual clock passes this many seconds.
        package var maxTime: Double
        /// Stop an algorithm once it has produced this many model versions.
        package var maxVersions: Int
        /// Virtual seconds of communication added to every task (download plus upload).
        package var latency: Double
        /// Relative standard deviation of a task's compute time (docs/design.md 5.3: 0.05).
        package var jitter: Double
        /// Evaluate every k-th version (the last version is always evaluated).
        package var evaluateEvery: Int
        /// Mean seconds per step when the configuration says 0 (docs/design.md 5.3: 0.15).
        package var defaultMeanTimePerStep: Double
        /// The first `attackers` clients send their trained delta times `attackScale`
        /// (negative: sign-flipped), to measure the robust aggregation rules.
        package var attackers = 0
        package var attackScale = -4.0
        /// Stop an algorithm once this accuracy has held for `stopHeld` consecutive
        /// evaluations: both times to the target are then known, and later versions would
        /// only cost CPU (nil: run to the budget).
        package var stopTarget: Double?
        package var stopHeld = 3

        package init(
            algorithms: [SchedulerKind] = SchedulerKind.allCases, maxTime: Double = .infinity, maxVersions: Int = 50,
            latency: Double = 0, jitter: Double = 0.05, evaluateEvery: Int = 1, defaultMeanTimePerStep: Double = 0.15
        ) {
            self.algorithms = algorithms
            self.maxTime = maxTime
            self.maxVersions = maxVersions
            self.latency = latency
            self.jitter = jitter
            self.evaluateEvery = evaluateEvery
            self.defaultMeanTimePerStep = defaultMeanTimePerStep
        }

        func validate() throws {
            guard !algorithms.isEmpty else { throw RuntimeError(.invalidConfiguration, "no algorithm to simulate") }
            guard maxTime > 0, !maxTime.isNaN else {
                throw RuntimeError(.invalidConfiguration, "the virtual time budget must be positive, got \(maxTime)")
            }
            guard maxVersions > 0 else {
                throw RuntimeError(
                    .invalidConfiguration, "the version budget must be a positive integer, got \(maxVersions)")
            }
            guard latency >= 0, latency.isFinite else {
                throw RuntimeError(.invalidConfiguration, "the latency must be >= 0 seconds, got \(latency)")
            }
            guard jitter >= 0, jitter.isFinite else {
                throw RuntimeError(.invalidConfiguration, "the jitter must be >= 0, got \(jitter)")
            }
            guard attackers >= 0, attackScale.isFinite else {
                throw RuntimeError(
                    .invalidConfiguration,
                    "attackers must be >= 0 and the attack scale finite, got \(attackers), \(attackScale)")
            }
            guard evaluateEvery > 0 else {
                throw RuntimeError(
                    .invalidConfiguration, "evaluate-every must be a positive integer, got \(evaluateEvery)")
            }
            if let stopTarget {
                guard stopTarget > 0, stopTarget <= 1, stopHeld > 0 else {
                    throw RuntimeError(
                        .invalidConfiguration,
                        "a run stops at a target in (0, 1] held for a positive number of evaluations, got \(stopTarget) held \(stopHeld)"
                    )
                }
            }
            guard defaultMeanTimePerStep > 0, defaultMeanTimePerStep.isFinite else {
                throw RuntimeError(
                    .invalidConfiguration, "the default time per step must be positive, got \(defaultMeanTimePerStep)")
            }
        }
    }

    /// Parses a comma-separated list of algorithm names, naming any unknown one.
    package static func algorithms(named list: String) throws -> [SchedulerKind] {
        let names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            .filter { !$0.isEmpty }
        guard !names.isEmpty else { throw RuntimeError(.invalidConfiguration, "no algorithm given") }
        var kinds: [SchedulerKind] = []
        for name in names {
            guard let kind = SchedulerKind(rawValue: name) else {
                throw RuntimeError(
                    .invalidConfiguration,
                    "unknown algorithm '\(name)'; use \(SchedulerKind.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        return kinds
    }

    package let configuration: FederationConfiguration
    package let options: Options
    /// Each client's training data, in client order.
    package let clientData: [Dataset]
    package let testSet: Dataset
    /// Each client's mean virtual seconds per step.
    package let secondsPerStep: [Double]
    let model: ModelSection

    /// Loads Fashion-MNIST as the configuration says and partitions it among `clients.count`.
    package init(configuration: FederationConfiguration, options: Options) throws {
        try configuration.validate()
        let data = configuration.data
        let partitioner = try data.partitioner
        var train: Dataset
        do {
            train = try FashionMNIST.load(.train, from: URL(fileURLWithPath: data.directory))
        } catch let error as SextantMLError {
            throw RuntimeError(.dataUnavailable, error.message)
        }
        if data.trainingLimit > 0 { train = train.prefix(data.trainingLimit) }
        let partition: Partition
        do {
            partition = try partitioner.split(
                labels: train.labels, classCount: train.classCount, clients: configuration.clients.count,
                seed: configuration.run.seed)
        } catch let error as SextantMLError {
            throw RuntimeError(.dataUnavailable, error.message)
        }
        for (index, indices) in partition.clients.enumerated() where indices.isEmpty {
            throw RuntimeError(
                .dataUnavailable,
                "client \(index) received no examples from the \(data.partition) partition; change run.seed or the partition"
            )
        }
        try self.init(
            configuration: configuration, options: options, clientData: partition.clients.map { train.subset($0) },
            testSet: try FederationData.loadTestSet(data))
    }

    /// Uses the given data (one dataset per client) instead of loading Fashion-MNIST.
    package init(configuration: FederationConfiguration, options: Options, clientData: [Dataset], testSet: Dataset)
        throws
    {
        try configuration.validate()
        try options.validate()
        guard !clientData.isEmpty, clientData.allSatisfy({ $0.count > 0 }) else {
            throw RuntimeError(.dataUnavailable, "every simulated client needs training data")
        }
        if let adaptive = try configuration.server.adaptiveOptimizer, options.algorithms.contains(.fedavgm) {
            throw RuntimeError(
                .invalidConfiguration,
                "server.optimizer \(adaptive.rule.rawValue) cannot apply to fedavgm, itself a server optimizer: leave fedavgm out of the algorithms or set server.optimizer none"
            )
        }
        self.configuration = configuration
        self.options = options
        self.clientData = clientData
        self.testSet = testSet
        model = configuration.model
        var clients = configuration.clients
        if clients.meanTimePerStep == 0 { clients.meanTimePerStep = options.defaultMeanTimePerStep }
        secondsPerStep = clientData.indices.map {
            clients.speed(ofClient: $0, seed: configuration.run.seed).timePerStep
        }
    }

    /// Runs every algorithm of the options in turn, from the same initial model.
    package func run(logger: Logger) throws -> SimulationReport {
        var outcomes: [AlgorithmOutcome] = []
        for kind in options.algorithms {
            let outcome = try run(kind)
            let last = outcome.points.last
            logger.info(
                "simulated",
                metadata: [
                    "algorithm": "\(kind.rawValue)", "versions": "\(outcome.versions)",
                    "virtual_seconds": "\(SimulationReport.format(outcome.virtualSeconds, digits: 1))",
                    "accuracy": "\(last.map { SimulationReport.format($0.accuracy, digits: 4) } ?? "-")",
                    "wall_seconds": "\(SimulationReport.format(outcome.wallSeconds, digits: 1))",
                    "overhead": "\(SimulationReport.format(outcome.overheadFraction * 100, digits: 2))%",
                ])
            outcomes.append(outcome)
        }
        return SimulationReport(targetAccuracy: nil, outcomes: outcomes)
    }

    /// Simulates one algorithm: the configuration's scheduler section with `kind` replaced.
    package func run(_ kind: SchedulerKind) throws -> AlgorithmOutcome {
        var section = configuration.scheduler
        section.kind = kind.rawValue
        let scheduler = try section.makeScheduler(seed: configuration.run.seed)
        return try simulate(scheduler, name: kind.rawValue)
    }

    static func clientID(_ index: Int) -> ClientID {
        "client-" + (index < 10 ? "0" : "") + String(index)
    }

    private func simulate<S: Scheduler>(_ scheduler: S, name: String) throws -> AlgorithmOutcome {
        let clock = ContinuousClock()
        let started = clock.now
        let federation = try SimulatedFederation(runner: self, algorithm: name)
        let clients = clientData.indices.map {
            SchedulerSimulation<S>.Client(
                id: Self.clientID($0), samples: clientData[$0].count, secondsPerStep: secondsPerStep[$0])
        }
        var simulation = SchedulerSimulation(
            scheduler: scheduler, model: federation.initialModel, clients: clients,
            configuration: .init(latency: options.latency, jitter: options.jitter, seed: configuration.run.seed),
            robust: try configuration.server.robust, serverOptimizer: try configuration.server.adaptiveOptimizer)
        let maxTime = options.maxTime
        var failure: (any Error)?
        let observer = SchedulerSimulation<S>.Observer(
            train: { task, model in
                guard failure == nil else { return [] }
                do { return try federation.train(task, from: model) } catch {
                    failure = error
                    return []
                }
            },
            aggregated: { record, model in
                // The event that crosses the budget is handled but not counted.
                guard failure == nil, record.time <= maxTime else { return }
                federation.aggregated(record, model: model)
            })

        federation.evaluate(federation.initialModel, version: 0, at: 0)
        while simulation.scheduler.version < options.maxVersions, simulation.step(observer: observer) {
            if let failure { throw failure }
            if simulation.now > maxTime || federation.heldTarget { break }
        }
        if let failure { throw failure }
        federation.finish()
        return AlgorithmOutcome(
            algorithm: name, points: federation.points, versions: federation.version,
            updatesApplied: federation.updatesApplied, tasksAssigned: federation.tasksAssigned,
            virtualSeconds: min(simulation.now, maxTime), wallSeconds: (clock.now - started).inSeconds,
            trainingSeconds: federation.trainingSeconds, evaluationSeconds: federation.evaluationSeconds)
    }
}

extension ExperimentRunner {
    /// What of `privacy` the simulator does not apply (it trains and aggregates plain
    /// deltas), named as the configuration names it; nil when nothing.
    package static func unmodelledPrivacy(_ privacy: PrivacySection) -> String? {
        var parts: [String] = []
        if privacy.mode != .none { parts.append("privacy.mode \(privacy.mode.rawValue)") }
        if privacy.secureAggregation.enabled { parts.append("privacy.secure_aggregation") }
        return parts.isEmpty ? nil : parts.joined(separator: " and ")
    }
}
