import Foundation

/// Softmax followed by the cross-entropy of integer labels, averaged over the batch.
package enum SoftmaxCrossEntropy {
    package typealias Result = LossStatistics

    /// Computes the loss of `logits` (batchSize x classes) and, when `gradient` is given,
    /// writes d(mean loss)/d(logits) into it, scaled by `gradientScale / batchSize`.
    @discardableResult
    package static func evaluate(
        logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batchSize: Int, classes: Int,
        gradient: UnsafeMutablePointer<Float>? = nil, perExampleLosses: UnsafeMutablePointer<Float>? = nil
    ) -> Result {
        var total = 0.0
        var correct = 0
        let scale = 1 / Float(batchSize)
        for row in 0..<batchSize {
            let z = logits + row * classes
            let label = Int(labels[row])
            var maxValue = z[0]
            var maxIndex = 0
            for j in 1..<classes where z[j] > maxValue {
                maxValue = z[j]
                maxIndex = j
            }
            if maxIndex == label { correct += 1 }
            var sum: Float = 0
            for j in 0..<classes { sum += expf(z[j] - maxValue) }
            let logSum = logf(sum) + maxValue
            let loss = logSum - z[label]
            total += Double(loss)
            perExampleLosses?[row] = loss
            if let gradient {
                let g = gradient + row * classes
                for j in 0..<classes {
                    g[j] = expf(z[j] - logSum) * scale
                }
                g[label] -= scale
            }
        }
        return Result(totalLoss: total, correct: correct)
    }
}
