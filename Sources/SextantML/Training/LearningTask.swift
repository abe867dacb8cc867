import Foundation

/// What a model predicts, which fixes its output width, its loss and its metrics. (Not named
/// `Task`: that would hide Swift's concurrency `Task` in every module importing this one.)
///
/// - `classification`: one logit per class, softmax cross-entropy (``SoftmaxCrossEntropy``),
///   labels in `0..<classes`.
/// - `binary`: one logit, sigmoid cross-entropy (``SigmoidCrossEntropy``), labels 0 or 1; an
///   optional weight on the positive class's term, like PyTorch's `BCEWithLogitsLoss(pos_weight:)`.
/// - `regression`: `outputs` real values per example, mean squared error or Huber
///   (``RegressionLoss``), targets in ``Dataset/targets``.
package enum LearningTask: Hashable, Sendable, CustomStringConvertible {
    case classification(classes: Int)
    case binary(positiveWeight: Float = 1)
    case regression(outputs: Int = 1, loss: RegressionLoss = .meanSquared)

    /// The width of the network's last layer.
    package var outputCount: Int {
        switch self {
        case .classification(let classes): classes
        case .binary: 1
        case .regression(let outputs, _): outputs
        }
    }

    /// The labels' range for the tasks that take labels (0 for regression).
    package var classCount: Int {
        switch self {
        case .classification(let classes): classes
        case .binary: 2
        case .regression: 0
        }
    }

    /// True when the targets are integer labels (``Dataset/labels``), false for real values.
    package var usesLabels: Bool {
        if case .regression = self { return false }
        return true
    }

    package var description: String {
        switch self {
        case .classification(let classes): "classification, \(classes) classes"
        case .binary(let weight): weight == 1 ? "binary" : "binary, positive weight \(weight)"
        case .regression(let outputs, let loss): "regression, \(outputs) output\(outputs == 1 ? "" : "s"), \(loss)"
        }
    }

    /// The mean loss of a batch and, when `gradient` is given, d(mean loss)/d(outputs) written into it.
    package func evaluate(
        outputs: UnsafePointer<Float>, targets: BatchTargets, batchSize: Int,
        gradient: UnsafeMutablePointer<Float>? = nil, perExampleLosses: UnsafeMutablePointer<Float>? = nil
    ) -> LossStatistics {
        switch (self, targets) {
        case (.classification(let classes), .labels(let labels)):
            return SoftmaxCrossEntropy.evaluate(
                logits: outputs, labels: labels, batchSize: batchSize, classes: classes, gradient: gradient,
                perExampleLosses: perExampleLosses)
        case (.binary(let weight), .labels(let labels)):
            return SigmoidCrossEntropy.evaluate(
                logits: outputs, labels: labels, batchSize: batchSize, positiveWeight: weight, gradient: gradient,
                perExampleLosses: perExampleLosses)
        case (.regression(let width, let loss), .values(let values)):
            return loss.evaluate(
                predictions: outputs, targets: values, batchSize: batchSize, outputs: width, gradient: gradient,
                perExampleLosses: perExampleLosses)
        default:
            preconditionFailure("\(self) takes \(usesLabels ? "integer labels" : "real-valued targets")")
        }
    }
}

/// The targets of one batch: labels for classification tasks, `batchSize x outputs` values for regression.
package enum BatchTargets {
    case labels(UnsafePointer<Int32>)
    case values(UnsafePointer<Float>)

    /// The targets of the example `offset` rows further on (`width` values per row).
    func advanced(by offset: Int, width: Int) -> BatchTargets {
        switch self {
        case .labels(let labels): .labels(labels + offset)
        case .values(let values): .values(values + offset * width)
        }
    }
}

/// The statistics of a loss over a batch.
package struct LossStatistics: Sendable {
    /// Sum (not mean) of the per-example losses.
    package var totalLoss: Double
    /// Classification: how many examples have their label as the arg-max logit (binary: the
    /// logit's sign). Regression: 0.
    package var correct: Int

    package init(totalLoss: Double, correct: Int) {
        self.totalLoss = totalLoss
        self.correct = correct
    }
}

/// Binary cross-entropy on one logit per example, averaged over the batch:
/// `loss = w y softplus(-z) + (1 - y) softplus(z)`, which is `-(w y log σ(z) + (1 - y) log(1 - σ(z)))`
/// without overflow; `w` weighs the positive class (PyTorch's `BCEWithLogitsLoss` with
/// `pos_weight`, reduction `mean`). Its gradient is `(w y (σ(z) - 1) + (1 - y) σ(z)) / batch`.
package enum SigmoidCrossEntropy {
    /// `log(1 + e^x)` without overflow.
    @inline(__always)
    static func softplus(_ x: Float) -> Float {
        x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x))
    }

    @discardableResult
    package static func evaluate(
        logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batchSize: Int, positiveWeight: Float = 1,
        gradient: UnsafeMutablePointer<Float>? = nil, perExampleLosses: UnsafeMutablePointer<Float>? = nil
    ) -> LossStatistics {
        var total = 0.0
        var correct = 0
        let scale = 1 / Float(batchSize)
        for row in 0..<batchSize {
            let z = logits[row]
            let positive = labels[row] == 1
            let loss = positive ? positiveWeight * softplus(-z) : softplus(z)
            if (z > 0) == positive { correct += 1 }
            total += Double(loss)
            perExampleLosses?[row] = loss
            if let gradient {
                let p = SigmoidFunction.value(z)
                gradient[row] = (positive ? positiveWeight * (p - 1) : p) * scale
            }
        }
        return LossStatistics(totalLoss: total, correct: correct)
    }
}

/// The loss of a regression task, averaged over every output of every example (PyTorch's
/// `MSELoss` and `HuberLoss(delta)` with reduction `mean`). An example's loss is the mean over
/// its outputs, so `totalLoss / batch` is the batch's mean loss.
package enum RegressionLoss: Hashable, Sendable, CustomStringConvertible {
    /// `d²` of the error `d = prediction - target`.
    case meanSquared
    /// `d² / 2` when `|d| <= delta`, else `delta (|d| - delta / 2)`: quadratic near 0, linear beyond.
    case huber(delta: Float)

    package var description: String {
        switch self {
        case .meanSquared: "mean squared error"
        case .huber(let delta): "Huber loss, delta \(delta)"
        }
    }

    @discardableResult
    package func evaluate(
        predictions: UnsafePointer<Float>, targets: UnsafePointer<Float>, batchSize: Int, outputs: Int,
        gradient: UnsafeMutablePointer<Float>? = nil, perExampleLosses: UnsafeMutablePointer<Float>? = nil
    ) -> LossStatistics {
        var total = 0.0
        let scale = 1 / Float(batchSize * outputs)
        for row in 0..<batchSize {
            var rowLoss: Float = 0
            for j in (row * outputs)..<((row + 1) * outputs) {
                let d = predictions[j] - targets[j]
                switch self {
                case .meanSquared:
                    rowLoss += d * d
                    gradient?[j] = 2 * d * scale
                case .huber(let delta):
                    if abs(d) <= delta {
                        rowLoss += 0.5 * d * d
                        gradient?[j] = d * scale
                    } else {
                        rowLoss += delta * (abs(d) - 0.5 * delta)
                        gradient?[j] = (d > 0 ? delta : -delta) * scale
                    }
                }
            }
            rowLoss /= Float(outputs)
            total += Double(rowLoss)
            perExampleLosses?[row] = rowLoss
        }
        return LossStatistics(totalLoss: total, correct: 0)
    }
}
