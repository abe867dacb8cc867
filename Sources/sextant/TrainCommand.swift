import ArgumentParser
import Foundation
import SextantBenchmarks
import SextantClient
import SextantLauncher
import SextantML
import SextantRuntime
import SextantSimulation

/// Centralized training: the baseline a federation is compared with. On Fashion-MNIST, or
/// (`--config` with `--data` per site) on sites' own files pooled: the pipeline fitted from
/// their merged statistics and each site's validation share set aside, as a federation of the
/// same sites does, so that the two report the same metrics on the same records.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model centrally (the non-federated baseline) on Fashion-MNIST or on sites' files pooled.",
        discussion: """
            sextant train --config C --data a.csv --data b.csv reads the model, the data options and the \
            training settings from C (a federation's configuration) and trains on the files pooled.
            """)

    @Option(help: "A federation's configuration: model, data options and training settings for --data.")
    var config: String?
    @Option(help: "A site's data file (repeat for each site), read as the configuration's data section says.")
    var data: [String] = []

    @Option(help: "Model: logreg, mlp or cnn.") var model = "mlp"
    @Option(help: "Passes over the training set.") var epochs = 10
    @Option(help: "Examples per mini-batch.") var batchSize = 64
    @Option(help: "Learning rate.") var lr = 0.02
    @Option(help: "Optimizer: sgd or adam.") var optimizer = "sgd"
    @Option(help: "SGD momentum.") var momentum = 0.9
    @Option(help: "L2 weight decay.") var weightDecay = 0.0
    @Option(help: "Seed of initialisation and shuffling.") var seed: UInt64 = 1
    @Option(help: "Directory with the Fashion-MNIST IDX files.")
    var dataDirectory = FashionMNIST.defaultDirectory.path
    @Option(help: "Use only the first N training examples (0: all).") var limit = 0
    @Option(help: "OpenBLAS threads.") var threads = 2

    func run() throws {
        if let config {
            try trainOnSites(configuration: try FederationConfiguration.load(from: URL(fileURLWithPath: config)))
            return
        }
        guard data.isEmpty else {
            throw RuntimeError(.invalidArgument, "--data needs --config: the configuration says how to read the files")
        }
        let architecture = try ModelArchitecture(name: model)
        try TrainingHyperparameters.check(
            epochs: epochs, batchSize: batchSize, lr: lr, momentum: momentum, weightDecay: weightDecay)
        guard threads > 0 else {
            throw SextantMLError(code: .invalidArgument, "--threads must be positive, got \(threads)")
        }
        setBLASThreads(threads)
        let directory = URL(fileURLWithPath: dataDirectory)
        let train = try FashionMNIST.load(.train, from: directory, limit: limit > 0 ? limit : nil)
        let test = try FashionMNIST.load(.test, from: directory)
        let network = architecture.makeNetwork(input: train.shape, classCount: train.classCount, seed: seed)
        let optimizer = try TrainingHyperparameters.makeOptimizer(
            name: self.optimizer, lr: lr, momentum: momentum, weightDecay: weightDecay)
        var trainer = try Trainer(
            network: network, dataset: train, optimizer: optimizer, batchSize: batchSize, seed: seed)
        print(
            "training \(architecture.rawValue) (\(network.parameterCount) parameters) on \(train.count) examples, testing on \(test.count)"
        )
        let stepsPerEpoch = trainer.batches.batchesPerEpoch
        let clock = ContinuousClock()
        let start = clock.now
        for epoch in 1...epochs {
            var bar = ProgressBar(total: stepsPerEpoch, label: "epoch \(epoch)/\(epochs)")
            var done = Trainer.Progress()
            let chunk = max(1, stepsPerEpoch / 100)
            while done.steps < stepsPerEpoch {
                let progress = trainer.train(steps: min(chunk, stepsPerEpoch - done.steps))
                done.steps += progress.steps
                done.examples += progress.examples
                done.totalLoss += progress.totalLoss
                done.correct += progress.correct
                bar.update(done.steps, status: String(format: "loss %.4f", done.meanLoss))
            }
            let evaluation = network.evaluate(on: test)
            let elapsed = (clock.now - start).inSeconds
            bar.finish(
                String(
                    format: "epoch %d/%d  train loss %.4f  train acc %.2f%%  test loss %.4f  test acc %.2f%%  (%.1fs)",
                    epoch, epochs, done.meanLoss, done.accuracy * 100, evaluation.loss, evaluation.accuracy * 100,
                    elapsed))
        }
    }

    /// `--config` with `--data`: the sites' files pooled.
    private func trainOnSites(configuration: FederationConfiguration) throws {
        guard configuration.data.isSiteData else {
            throw RuntimeError(
                .invalidConfiguration,
                "\(config ?? ""): data.dataset is \(configuration.data.dataset); --data files need table or arrays")
        }
        guard !data.isEmpty else {
            throw RuntimeError(.invalidArgument, "give each site's file with --data (repeat it for each site)")
        }
        guard epochs > 0, threads > 0 else {
            throw RuntimeError(.invalidArgument, "--epochs and --threads must be positive")
        }
        setBLASThreads(threads)
        let (pipeline, train, validation) = try FederationData.pooledSites(paths: data, configuration: configuration)
        let training = configuration.training
        let seed = configuration.run.seed
        let network = try configuration.model.makeNetwork(input: train.shape, classCount: train.classCount, seed: seed)
        let optimizer = try TrainingHyperparameters.makeOptimizer(
            name: training.optimizer, lr: training.learningRate, momentum: training.momentum,
            weightDecay: training.weightDecay)
        var trainer = try Trainer(
            network: network, dataset: train, optimizer: optimizer, batchSize: training.batchSize, seed: seed)
        print(
            "training \(configuration.model.displayName) (\(network.parameterCount) parameters, \(network.task)) on \(train.count) records of \(data.count) sites pooled, \(pipeline.inputWidth) inputs; validating on \(validation.count)"
        )
        let stepsPerEpoch = trainer.batches.batchesPerEpoch
        for epoch in 1...epochs {
            let progress = trainer.train(steps: stepsPerEpoch)
            var line = String(format: "epoch %d/%d  train loss %.4f", epoch, epochs, progress.meanLoss)
            if validation.count > 0 {
                let evaluation = network.evaluate(on: validation)
                line += String(format: "  validation loss %.4f", evaluation.loss)
                for (name, value) in (evaluation.metrics ?? [:]).sorted(by: { $0.key < $1.key }) {
                    line += "  \(name) " + String(format: "%.4f", value)
                }
            }
            print(line)
        }
    }
}
