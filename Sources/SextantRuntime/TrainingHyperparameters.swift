import SextantML

/// Checks of the hyper-parameters shared by `sextant train`, the client and the server
/// config, so that every entry point rejects the same bad values with the same words.
package enum TrainingHyperparameters {
    package static func check(
        epochs: Int? = nil, batchSize: Int, lr: Double, momentum: Double = 0, weightDecay: Double = 0
    ) throws {
        if let epochs, epochs <= 0 {
            throw RuntimeError(.invalidConfiguration, "epochs must be a positive integer, got \(epochs)")
        }
        guard batchSize > 0 else {
            throw RuntimeError(.invalidConfiguration, "batch size must be a positive integer, got \(batchSize)")
        }
        guard lr.isFinite, lr > 0 else {
            throw RuntimeError(.invalidConfiguration, "learning rate must be a positive finite number, got \(lr)")
        }
        guard momentum.isFinite, momentum >= 0, momentum < 1 else {
            throw RuntimeError(.invalidConfiguration, "momentum must lie in [0, 1), got \(momentum)")
        }
        guard weightDecay.isFinite, weightDecay >= 0 else {
            throw RuntimeError(.invalidConfiguration, "weight decay must be a non-negative number, got \(weightDecay)")
        }
    }

    package static func makeOptimizer(name: String, lr: Double, momentum: Double, weightDecay: Double) throws
        -> any Optimizer
    {
        switch name.lowercased() {
        case "sgd":
            return SGD(learningRate: Float(lr), momentum: Float(momentum), weightDecay: Float(weightDecay))
        case "adam":
            return Adam(learningRate: Float(lr), weightDecay: Float(weightDecay))
        default:
            throw RuntimeError(.invalidConfiguration, "unknown optimizer '\(name)'; use sgd or adam")
        }
    }
}
