import ArgumentParser
import Foundation
import SextantBenchmarks
import SextantClient
import SextantLauncher
import SextantML
import SextantRuntime
import SextantSimulation

/// Centralized training on Fashion-MNIST: the baseline a federation is compared with.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a model centrally on Fashion-MNIST (the non-federated baseline).")

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
}
