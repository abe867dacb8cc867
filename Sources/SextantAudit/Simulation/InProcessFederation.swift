import Foundation
import SextantML
import SextantStore

/// Synchronous FedAvg over in-memory partitions, checkpointing every round into a
/// ``CheckpointStore`` exactly as the server does (a run with its fingerprint, version 0
/// the initial model, then consecutive versions). For the audit's tests and for
/// `sextant-audit simulate`, which make audit-ready checkpoint databases without the
/// network; the federation itself is `sextant-server` and `sextant-client`. Sendable.
public struct InProcessFederation: Sendable {
    public struct Configuration: Sendable, Equatable {
        public var model = ModelArchitecture.logreg
        public var rounds = 20
        /// Local SGD steps of every client per round.
        public var localSteps = 20
        public var batchSize = 16
        public var learningRate: Float = 0.1
        public var seed: UInt64 = 0

        public init() {}
    }

    public var configuration: Configuration

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Trains on `clients` (empty partitions are skipped) and commits `rounds + 1`
    /// checkpoints as run `runID`; `round(version, meanLoss)` reports progress. Returns the run.
    @discardableResult
    public func train(
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
        var global = network.parameterVector()
        let run = try store.startRun(
            id: runID, config: config,
            fingerprint: c.model.fingerprint(input: first.shape, classCount: classCount), initialParameters: global)
        let total = Double(active.reduce(0) { $0 + $1.count })
        for version in 1...c.rounds {
            var sum = [Double](repeating: 0, count: global.count)
            var loss = 0.0
            for (index, client) in active.enumerated() {
                network.loadParameters(global)
                var trainer = try Trainer(
                    network: network, dataset: client, optimizer: SGD(learningRate: c.learningRate),
                    batchSize: min(c.batchSize, client.count),
                    seed: c.seed &+ UInt64(version) &* 1_000_003 &+ UInt64(index))
                let progress = trainer.train(steps: c.localSteps)
                let weight = Double(client.count) / total
                loss += progress.meanLoss * weight
                for (i, value) in network.parameters.enumerated() { sum[i] += Double(value) * weight }
            }
            global = sum.map { Float($0) }
            try store.commitAggregation(
                run: runID, version: version, parameters: global, metrics: ["loss": loss], appliedUpdates: [])
            round?(version, loss)
        }
        try store.markRun(id: runID, status: .completed)
        return run
    }
}
