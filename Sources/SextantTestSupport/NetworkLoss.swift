import Foundation
import SextantML

extension Network {
    /// The mean softmax cross-entropy of a batch, computed from the logits in Double
    /// (independent of ``SoftmaxCrossEntropy``), for finite-difference checks.
    package func meanLossInDouble(features: [Float], labels: [Int32]) -> Double {
        let batchSize = labels.count
        precondition(features.count == batchSize * inputShape.count, "features do not match labels")
        return features.withUnsafeBufferPointer { x in
            let logits = forward(x.baseAddress!, batchSize: batchSize)
            var total = 0.0
            for row in 0..<batchSize {
                let z = (0..<classCount).map { Double(logits[row * classCount + $0]) }
                let top = z.max()!
                let logSum = log(z.reduce(0.0) { $0 + exp($1 - top) }) + top
                total += logSum - z[Int(labels[row])]
            }
            return total / Double(batchSize)
        }
    }

    /// Runs ``trainingStep`` on a batch and returns a copy of the resulting gradient.
    package func gradientOfMeanLoss(features: [Float], labels: [Int32]) -> [Float] {
        _ = features.withUnsafeBufferPointer { x in
            labels.withUnsafeBufferPointer { y in
                trainingStep(x.baseAddress!, labels: y.baseAddress!, batchSize: labels.count)
            }
        }
        return Array(gradients)
    }
}
