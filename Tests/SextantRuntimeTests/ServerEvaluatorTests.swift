import Dispatch
import Foundation
import Logging
import SextantStore
import SextantWire
import Synchronization
import Testing

@testable import SextantServer

#if canImport(Glibc)
    import Glibc
#endif

@Suite("The server's evaluation on a thread of its own")
struct ServerEvaluatorTests {
    private let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test("the checkpoint commits while its evaluation runs, updates are taken meanwhile, and the metrics follow")
    func checkpointDoesNotWaitForTheEvaluation() async throws {
        try await withWriterStore(logger: logger) { store in try check(store) }
    }

    @Test("evaluations run in order at nice 19 on one thread, the caller's priority untouched, and stop waits for them")
    func evaluationsRunAtTheLowestPriority() {
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        let callerPriority = getpriority(which, 0)
        let seen = Mutex<[(model: Float, priority: Int32, thread: UInt)]>([])
        let evaluator = ServerEvaluator { model in
            seen.withLock { $0.append((model[0], getpriority(which, 0), UInt(pthread_self()))) }
            return ServerEvaluator.Result(accuracy: Double(model[0]), loss: 0)
        }
        let pending = (0..<5).map { evaluator.evaluate([Float($0)]) }
        evaluator.stop()
        let runs = seen.withLock { $0 }
        #expect(runs.map(\.model) == [0, 1, 2, 3, 4])
        #expect(runs.allSatisfy { $0.priority == 19 })
        #expect(Set(runs.map(\.thread)).count == 1)
        #expect(pending.map { $0.resultIfDone?.accuracy } == [0, 1, 2, 3, 4])
        #expect(getpriority(which, 0) == callerPriority)
    }

    private func check(_ store: CheckpointStore) throws {
        // An evaluation that lasts until the test lets it finish, and the thread it ran on.
        let release = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let evaluatedOn = Mutex<UInt?>(nil)
        let evaluator = ServerEvaluator { _ in
            release.wait()
            evaluatedOn.withLock { $0 = UInt(pthread_self()) }
            return ServerEvaluator.Result(accuracy: 0.5, loss: 1.25)
        }
        let writer = DurableWriter(store: store, logger: logger)
        // What the server's thread does at an aggregation, then with the next updates.
        let model = (0..<100).map { Float($0) }
        let evaluation = evaluator.evaluate(model) { _ in finished.signal() }
        writer.submit(
            .write(action: "commit version 1", isCritical: true) { store in
                try store.commitAggregation(
                    run: "run", version: 1, parameters: model, metrics: ["updates": 0], appliedUpdates: [])
            })
        for id in Int64(1)...3 {
            let submission = UpdateSubmission(
                run: "run", client: "c\(id)", sequence: 1, baseVersion: 1, steps: 1, computeSeconds: 0, samples: 1,
                delta: nil)
            writer.submit(.update(id: id, submission: submission, delta: FloatPayload(model)))
        }
        // The checkpoint and the updates are durable with the evaluation still running: the
        // next version's assignments, which wait for the checkpoint, do not wait for it.
        let committed = writer.drain()
        #expect(committed.durableThrough == 4 && committed.failure == nil)
        #expect(evaluation.resultIfDone == nil)
        let checkpoint = try #require(try store.checkpoint(run: "run", version: 1))
        #expect(checkpoint.metrics == ["updates": 0])
        #expect(checkpoint.parameters == model)
        #expect(try store.pendingUpdates(run: "run").map(\.id) == [1, 2, 3])

        // Once it is in, the evaluator calls back and its metrics join the checkpoint's row.
        release.signal()
        finished.wait()
        let result = evaluation.wait()
        writer.submit(
            .write(action: "store the evaluation of version 1", isCritical: false) { store in
                try store.addMetrics(run: "run", version: 1, ["accuracy": result.accuracy, "loss": result.loss])
            })
        #expect(writer.drain().durableThrough == 5)
        #expect(try store.checkpoint(run: "run", version: 1)?.metrics == ["updates": 0, "accuracy": 0.5, "loss": 1.25])
        // Not on the thread that handed it over (the server's), which went on meanwhile.
        #expect(evaluatedOn.withLock { $0 } != nil && evaluatedOn.withLock { $0 } != UInt(pthread_self()))
        writer.stop()
        evaluator.stop()
    }
}

@Suite("When the server's evaluation is in, relative to its checkpoint's commit")
struct EvaluationTimingTests {
    @Test("after the commit, unless the run stops at an accuracy or the evaluator is two evaluations behind")
    func timing() {
        typealias Server = FederationServer
        #expect(Server.evaluationsAhead == 2)
        #expect(Server.evaluationTiming(stopsAtAccuracy: false, inFlight: 0) == .afterTheCommit)
        #expect(Server.evaluationTiming(stopsAtAccuracy: false, inFlight: 1) == .afterTheCommit)
        #expect(Server.evaluationTiming(stopsAtAccuracy: false, inFlight: 2) == .withTheCommit)
        #expect(Server.evaluationTiming(stopsAtAccuracy: false, inFlight: 7) == .withTheCommit)
        #expect(Server.evaluationTiming(stopsAtAccuracy: true, inFlight: 0) == .beforeTheCommit)
        #expect(Server.evaluationTiming(stopsAtAccuracy: true, inFlight: 3) == .beforeTheCommit)
    }
}

@Suite("server.file_threshold")
struct FileThresholdConfigurationTests {
    @Test func defaultValueAndRefusal() throws {
        #expect(try decodeConfiguration("model: mlp").server.fileThreshold == 2 << 20)
        #expect(try decodeConfiguration("server: {file_threshold: 0}").server.fileThreshold == 0)
        #expect(refusal(of: "server: {file_threshold: -1}")?.contains("server.file_threshold") == true)
    }
}
