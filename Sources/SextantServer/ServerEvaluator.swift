import Dispatch
import Foundation
import SextantML

/// The server's test-set evaluation of each new model, on a thread of its own
/// (docs/design.md 2 and 3). The server's actor hands a model over and goes on with its next
/// event; the checkpoint commits without waiting for it, and when the result is in, the
/// evaluator calls back and the actor records it in the checkpoint's row. Evaluations run one
/// at a time, in the order handed over, each on the evaluator's own network, which no other
/// thread touches. Sendable.
final class ServerEvaluator: Sendable {
    /// What an evaluation found. Sendable.
    struct Result: Sendable, Equatable {
        var accuracy: Double
        var loss: Double
    }

    /// One evaluation's result, once the evaluator's thread has it. Sendable: a box behind
    /// a condition variable's lock.
    final class Pending: @unchecked Sendable {
        private let condition = NSCondition()
        private var result: Result?

        fileprivate func fulfil(_ value: Result) {
            condition.withLock {
                result = value
                condition.broadcast()
            }
        }

        /// Blocks until the result is in, then returns it.
        func wait() -> Result {
            condition.lock()
            defer { condition.unlock() }
            while result == nil { condition.wait() }
            return result!
        }

        /// The result if it is in already.
        var resultIfDone: Result? { condition.withLock { result } }
    }

    /// Runs the evaluations, one at a time in the order handed over, on a thread of
    /// Dispatch's (a serial queue overcommits: it never takes a thread of the cooperative pool).
    private let queue: DispatchQueue
    /// The evaluation, used on `queue` only.
    private let evaluation: Evaluation

    /// Starts the queue, labelled `label`, that runs `evaluate` on each model handed over.
    init(label: String = "sextant-eval", evaluate: @escaping ([Float]) -> Result) {
        queue = DispatchQueue(label: label)
        evaluation = Evaluation(evaluate)
    }

    /// Evaluates models on `testSet` with `network`, which becomes the evaluator's own.
    convenience init(network: Network, testSet: Dataset) {
        self.init { model in
            network.loadParameters(model)
            let evaluation = network.evaluate(on: testSet)
            return Result(accuracy: evaluation.accuracy, loss: evaluation.loss)
        }
    }

    /// Hands `model` over; its result comes in the box returned, and then `done` is called
    /// with it on the evaluator's thread.
    func evaluate(_ model: [Float], then done: @escaping @Sendable (Result) -> Void = { _ in }) -> Pending {
        let pending = Pending()
        queue.async { [evaluation] in
            let result = evaluation.run(model)
            pending.fulfil(result)
            done(result)
        }
        return pending
    }

    /// Returns once every evaluation handed over is done.
    func stop() {
        queue.sync {}
    }
}

/// The evaluation function and the network it owns. Sendable: only the evaluator's serial
/// queue calls it, one call at a time.
private final class Evaluation: @unchecked Sendable {
    let run: ([Float]) -> ServerEvaluator.Result

    init(_ run: @escaping ([Float]) -> ServerEvaluator.Result) { self.run = run }
}
