import ArgumentParser
import Foundation
import Logging
import SextantAudit
import SextantML
import SextantRuntime
import SextantStore

/// `sextant-audit simulate`: FedAvg on a synth directory's partitions, in-process, into a
/// checkpoint database that `sextant-audit run` can audit.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Train a synthetic subject federation in-process (FedAvg) and checkpoint every round.")

    @Option(help: "A directory written by `sextant-audit synth`.") var data: String
    @Option(help: "Checkpoint database to write (created if needed).") var db: String
    @Option(name: .customLong("run"), help: "Run id.") var runID = "simulated"
    @Option(help: "Model: logreg, mlp or cnn.") var model = "logreg"
    @Option(help: "Rounds (checkpoints after the initial model).") var rounds = 20
    @Option(help: "Local SGD steps per client and round.") var localSteps = 20
    @Option(help: "Mini-batch size.") var batchSize = 16
    @Option(help: "SGD learning rate.") var learningRate: Float = 0.1
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "warning"

    func run() throws {
        try LogSetup.bootstrap(level: try LogSetup.level(named: logLevel))
        let directory = URL(fileURLWithPath: data)
        let truth = try SubjectGroundTruth.read(from: directory.appendingPathComponent("ground-truth.json"))
        let clients = try truth.clients.map { try DatasetFile.read(from: directory.appendingPathComponent($0.file)) }
        let classCount = truth.classCount
        let partitions = clients.map {
            Dataset(
                shape: $0.shape, classCount: classCount, features: $0.features, labels: $0.labels, subjects: $0.subjects
            )
        }
        var configuration = InProcessFederation.Configuration()
        configuration.model = try ModelArchitecture(name: model)
        configuration.rounds = rounds
        configuration.localSteps = localSteps
        configuration.batchSize = batchSize
        configuration.learningRate = learningRate
        configuration.seed = seed
        let store = try CheckpointStore(path: db, logger: Logger(label: "sextant.audit.store"))
        let config = """
            # sextant-audit simulate
            data: \(data)
            model: \(model)
            rounds: \(rounds)
            local_steps: \(localSteps)
            batch_size: \(batchSize)
            learning_rate: \(learningRate)
            seed: \(seed)
            """
        try InProcessFederation(configuration: configuration).train(
            clients: partitions, store: store, runID: runID, config: config + "\n"
        ) { version, loss in
            print("round \(version)/\(rounds): training loss \(String(format: "%.4f", loss))")
        }
        try store.close()
        print("run '\(runID)' checkpointed to \(db)")
    }
}
