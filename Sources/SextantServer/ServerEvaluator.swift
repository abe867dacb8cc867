import Foundation
import SextantML

#if canImport(Glibc)
    import Glibc
#endif

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

    /// Runs the evaluations, one at a time in the order handed over, on a thread of its own
    /// at the lowest priority (``BackgroundThread``).
    private let thread: BackgroundThread
    /// The evaluation, used on `thread` only.
    private let evaluation: Evaluation

    /// Starts the thread, named `label`, that runs `evaluate` on each model handed over.
    init(label: String = "sextant-eval", evaluate: @escaping ([Float]) -> Result) {
        thread = BackgroundThread(name: label)
        evaluation = Evaluation(evaluate)
    }

    deinit {
        thread.finish()
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
        thread.run { [evaluation] in
            let result = evaluation.run(model)
            pending.fulfil(result)
            done(result)
        }
        return pending
    }

    /// Returns once every evaluation handed over is done.
    func stop() {
        thread.waitUntilIdle()
    }
}

/// A thread that runs the jobs handed to it one at a time, in order, at nice 19: the
/// evaluation is off every round's path (the checkpoint commits and the next assignments
/// leave without it), so on a host whose cores the clients share it takes the time they
/// leave idle instead of taking its share from them; a 200k model's evaluation used 16 ms of
/// CPU per round while the round's own work waited (README, "The server's evaluation").
/// When it falls two evaluations behind, the next checkpoint's commit waits for it
/// (`FederationServer.evaluationTiming`), and with the round's work waiting the CPU is its.
/// Linux keeps a nice value per thread, so only this thread is lowered. Sendable: its state
/// is behind the condition's lock.
private final class BackgroundThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var running = false
    private var finished = false

    init(name: String) {
        // The thread holds this object until `finish`, then runs what is queued and ends.
        let thread = Thread { [self] in
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
            runLoop()
        }
        thread.name = name
        thread.start()
    }

    func run(_ job: @escaping @Sendable () -> Void) {
        condition.withLock {
            jobs.append(job)
            condition.broadcast()
        }
    }

    /// Returns once every job handed over has run.
    func waitUntilIdle() {
        condition.lock()
        defer { condition.unlock() }
        while !jobs.isEmpty || running { condition.wait() }
    }

    /// Lets the thread end once the jobs handed over have run.
    func finish() {
        condition.withLock {
            finished = true
            condition.broadcast()
        }
    }

    private func runLoop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !finished { condition.wait() }
            guard !jobs.isEmpty else {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            running = true
            condition.unlock()
            job()
            condition.withLock {
                running = false
                condition.broadcast()
            }
        }
    }
}

/// The evaluation function and the network it owns. Sendable: only the evaluator's serial
/// queue calls it, one call at a time.
private final class Evaluation: @unchecked Sendable {
    let run: ([Float]) -> ServerEvaluator.Result

    init(_ run: @escaping ([Float]) -> ServerEvaluator.Result) { self.run = run }
}
