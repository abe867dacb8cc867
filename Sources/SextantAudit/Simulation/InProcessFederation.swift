import Foundation
import SextantAggregation
import SextantML
import SextantScheduling
import SextantStore

/// Synchronous FedAvg over in-memory partitions, checkpointing every round into a
/// ``CheckpointStore`` exactly as the server does (a run with its fingerprint, version 0
/// the initial model, then consecutive versions). For the audit's tests and for
/// `sextant-audit simulate`, which make audit-ready checkpoint databases without the
/// network; the federation itself is `sextant-server` and `sextant-client`. The rounds
/// run through the same FedAvg scheduler and ``AggregationCore`` as the daemon, on a
/// virtual clock (``SchedulerSimulation``). Sendable.
package struct InProcessFederation: Sendable {
    package struct Configuration: Sendable, Equatable {
        package var model = ModelArchitecture.logreg
        package var rounds = 20
        /// Local SGD steps of every client per round.
        package var localSteps = 20
        package var batchSize = 16
        package var learningRate: Float = 0.1
        package var seed: UInt64 = 0

        package init() {}
    }

    package var configuration: Configuration

    package init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Trains on `clients` (empty partitions are skipped) and commits `rounds + 1`
    /// checkpoints as run `runID`; `round(version, meanLoss)` reports progress. Returns the run.
    @discardableResult
    package func train(
        clients: [Dataset], store: CheckpointStore, runID: String, config: String = "",
        round: ((_ version: Int, _ meanLoss: Double) -> Void)? = nil
    ) throws -> Run {
        let c = configuration
        let active = clients.filter { $0.count > 0 }
        guard let first = active.first else { throw AuditError(.invalidArgument, "every client partition is empty") }
        guard c.rounds >= 1, c.localSteps >= 1, c.batchSize >= 1 else {
            throw AuditError(.invalidArgument, "rounds, local steps and batch size must be at least 1")
        }
        let classCount = active.map(\.classCount).max()!
        let network = c.model.makeNetwork(input: first.shape, classCount: classCount, seed: c.seed)
        let global = network.parameterVector()
        let run = try store.startRun(
            id: runID, config: config,
            fingerprint: c.model.fingerprint(input: first.shape, classCount: classCount), initialParameters: global)
        let total = Double(active.reduce(0) { $0 + $1.count })
        let clients = active.indices.map {
            SchedulerSimulation<FedAvgScheduler>.Client(id: "c\($0)", samples: active[$0].count, secondsPerStep: 1)
        }
        let scheduler = FedAvgScheduler(
            configuration: .init(
                minimumClients: active.count, localSteps: c.localSteps, roundTimeout: .infinity, weighting: .samples,
                seed: c.seed))
        var simulation = SchedulerSimulation(scheduler: scheduler, model: global, clients: clients)
        var losses: [Int: Double] = [:]
        var failure: (any Error)?
        let observer = SchedulerSimulation<FedAvgScheduler>.Observer(
            train: { task, model in
                let version = task.baseVersion + 1
                guard failure == nil, let index = Int(task.client.dropFirst()) else { return model.map { _ in 0 } }
                do {
                    network.loadParameters(model)
                    var trainer = try Trainer(
                        network: network, dataset: active[index], optimizer: SGD(learningRate: c.learningRate),
                        batchSize: min(c.batchSize, active[index].count),
                        seed: c.seed &+ UInt64(version) &* 1_000_003 &+ UInt64(index))
                    let progress = trainer.train(steps: task.steps)
                    losses[version, default: 0] += progress.meanLoss * Double(active[index].count) / total
                    let local = network.parameters
                    return zip(local, model).map { $0 - $1 }
                } catch {
                    failure = error
                    return model.map { _ in 0 }
                }
            },
            aggregated: { record, model in
                guard failure == nil else { return }
                let version = record.aggregation.newVersion
                do {
                    try store.commitAggregation(
                        run: runID, version: version, parameters: model, metrics: ["loss": losses[version] ?? 0],
                        appliedUpdates: [])
                    round?(version, losses[version] ?? 0)
                } catch {
                    failure = error
                }
            })
        simulation.run(untilVersion: c.rounds, observer: observer)
        if let failure { throw failure }
        guard simulation.scheduler.version == c.rounds else {
            throw AuditError(
                .invalidArgument, "the federation stopped at version \(simulation.scheduler.version) of \(c.rounds)")
        }
        try store.markRun(id: runID, status: .completed)
        return run
    }
}
