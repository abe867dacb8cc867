import Foundation

/// Runs an ``ExportedModel`` on model inputs and applies its task's head, exactly as the
/// ONNX export does: softmax probabilities for classification, the sigmoid's probability of
/// each of the two classes for a binary task, outputs mapped back to the target's units for regression. Not Sendable: it
/// owns a ``Network``.
package final class Predictor {
    package let model: ExportedModel
    let network: Network
    let task: LearningTask

    package init(model: ExportedModel) throws {
        self.model = model
        network = try model.makeNetwork()
        task = try model.task
    }

    /// Values per row of ``outputs(features:rows:)``: the class count, or the regression width.
    package var width: Int {
        switch task {
        case .classification(let classes): classes
        case .binary: 2
        case .regression(let outputs, _): outputs
        }
    }

    /// The CSV header of the predictions: `prediction` then one probability column per class
    /// name, or `prediction` (`prediction_1`, ... for several regression outputs).
    package var columnNames: [String] {
        switch task {
        case .classification, .binary: ["prediction"] + model.classNames
        case .regression(let outputs, _):
            outputs == 1 ? ["prediction"] : (0..<outputs).map { "prediction_\($0 + 1)" }
        }
    }

    /// `rows x width` values: probabilities (classification, binary) or predictions (regression).
    package func outputs(features: [Float], rows: Int) -> [Float] {
        precondition(features.count == rows * network.inputShape.count, "features do not match the model's input")
        guard rows > 0 else { return [] }
        let batch = 256
        var result: [Float] = []
        result.reserveCapacity(rows * width)
        features.withUnsafeBufferPointer { input in
            var start = 0
            while start < rows {
                let count = min(batch, rows - start)
                let raw = network.forward(input.baseAddress! + start * network.inputShape.count, batchSize: count)
                for row in 0..<count {
                    let logits = UnsafeBufferPointer(start: raw + row * task.outputCount, count: task.outputCount)
                    switch task {
                    case .classification:
                        let top = logits.max()!
                        let exponentials = logits.map { Float(Foundation.exp(Double($0 - top))) }
                        let sum = exponentials.reduce(0, +)
                        result.append(contentsOf: exponentials.map { $0 / sum })
                    case .binary:
                        let positive = Float(1 / (1 + Foundation.exp(-Double(logits[0]))))
                        result.append(contentsOf: [1 - positive, positive])
                    case .regression:
                        let target = model.pipeline.target.transform ?? .identity
                        result.append(contentsOf: logits.map(target.invert))
                    }
                }
                start += count
            }
        }
        return result
    }

    /// The predicted class index of one row's probabilities: the first of the largest.
    package static func label(of probabilities: ArraySlice<Float>) -> Int {
        var best = probabilities.startIndex
        for index in probabilities.indices where probabilities[index] > probabilities[best] { best = index }
        return best - probabilities.startIndex
    }
}
