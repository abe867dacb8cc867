import Dispatch
import Foundation
import Logging
import SextantStore
import SextantWire
import Synchronization
import Testing

@testable import SextantServer

@Suite("The server's writer and the messages held for it")
struct DurableWriterTests {
    private let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    private func withStore<T>(_ body: (CheckpointStore) async throws -> T) async throws -> T {
        try await withWriterStore(logger: logger, body)
    }

    private func update(_ id: Int64, client: String) -> DurableWriter.Job {
        let submission = UpdateSubmission(
            run: "run", client: client, sequence: Int(id), baseVersion: 0, steps: 1, computeSeconds: 0, samples: 1,
            delta: nil)
        return .update(id: id, submission: submission, delta: FloatPayload((0..<100).map { Float($0) + Float(id) }))
    }

    @Test("an ack leaves only once the write handed over before it is durable, and in the order sent")
    func gateHoldsUntilDurable() {
        var gate = OutboundGate<String>()
        #expect(gate.send("grant", after: 0) == ["grant"])
        #expect(gate.send("ack 1", after: 1).isEmpty)
        // Sent after the ack, needing no write of its own: it still waits behind the ack.
        #expect(gate.send("wait", after: 1).isEmpty)
        #expect(gate.send("ack 2", after: 2).isEmpty)
        #expect(gate.durable(through: 0).isEmpty)
        #expect(gate.durable(through: 1) == ["ack 1", "wait"])
        #expect(gate.heldCount == 1)
        #expect(gate.durable(through: 3) == ["ack 2"])
        #expect(gate.send("ack 3", after: 3) == ["ack 3"])
    }

    @Test("after a failed write nothing held for it or after it leaves")
    func gateDropsOnFailure() {
        var gate = OutboundGate<String>()
        _ = gate.send("ack 1", after: 1)
        _ = gate.send("ack 2", after: 2)
        #expect(gate.durable(through: 1) == ["ack 1"])
        #expect(gate.dropHeld() == 1)
        #expect(gate.durable(through: 1).isEmpty)
        #expect(gate.send("ack 3", after: 3).isEmpty)
    }

    @Test("every update a report calls durable is in the database when the report arrives")
    func reportsFollowCommits() async throws {
        try await withStore { (store: CheckpointStore) async throws in
            let writer = DurableWriter(store: store, logger: logger, capacity: 4)
            let count: Int64 = 40
            let reader = Task { () throws -> [UInt64] in
                var seen: [UInt64] = []
                for await report in writer.reports {
                    seen.append(report.durableThrough)
                    // Tickets are the ids here: each one reported durable must be stored already.
                    for id in 1...Int64(report.durableThrough) where id <= count {
                        #expect(try store.storedUpdateID(run: "run", client: "c\(id % 3)", sequence: Int(id)) == id)
                    }
                    if report.durableThrough >= UInt64(count) { break }
                }
                return seen
            }
            for id in 1...count { writer.submit(update(id, client: "c\(id % 3)")) }
            let report = writer.drain()
            #expect(report.durableThrough == UInt64(count) && report.failure == nil)
            let seen = try await reader.value
            #expect(seen == seen.sorted())
            #expect(try store.pendingUpdates(run: "run").map(\.id) == Array(1...count))
            writer.stop()
        }
    }

    @Test("a failed critical write stops the writer: nothing after it is written or reported durable")
    func criticalFailureStops() async throws {
        try await withStore { (store: CheckpointStore) async throws in
            let writer = DurableWriter(store: store, logger: logger)
            writer.submit(update(1, client: "a"))
            writer.submit(
                .write(action: "fail on purpose", isCritical: true) { _ in throw StoreError(code: .diskFull, "full") })
            writer.submit(update(2, client: "b"))
            let report = writer.drain()
            #expect(report.durableThrough == 1)
            #expect(report.failure?.action == "fail on purpose")
            #expect(try store.pendingUpdates(run: "run").map(\.id) == [1])
            writer.stop()
        }
    }

    @Test("a failed non-critical write is logged and the writer goes on")
    func nonCriticalFailureGoesOn() async throws {
        try await withStore { (store: CheckpointStore) async throws in
            let writer = DurableWriter(store: store, logger: logger)
            writer.submit(
                .write(action: "record a client", isCritical: false) { _ in throw StoreError(code: .busy, "busy") })
            writer.submit(update(1, client: "a"))
            let report = writer.drain()
            #expect(report.durableThrough == 2 && report.failure == nil)
            #expect(try store.pendingUpdates(run: "run").map(\.id) == [1])
            writer.stop()
        }
    }

    @Test("the writer's thread releases an ack only after its update's commit, never before")
    func ackFollowsCommit() async throws {
        try await withStore { (store: CheckpointStore) async throws in
            let sender = GatedSender()
            let writer = DurableWriter(store: store, logger: logger) { sender.durable(through: $0) }
            // What the socket saw, and whether the update was stored when its ack left.
            let posted = Mutex<[(ack: String, stored: Bool)]>([])
            sender.attach(sink: { frames in
                guard case .bytes(let bytes) = frames.first else { return }
                let stored = (try? store.storedUpdateID(run: "run", client: "a", sequence: 1)) != nil
                posted.withLock { $0.append((String(decoding: bytes, as: UTF8.self), stored)) }
            })
            // A slow disk: the first write waits until the test lets it go.
            let release = DispatchSemaphore(value: 0)
            writer.submit(.write(action: "a slow write", isCritical: false) { _ in release.wait() })
            let ticket = writer.submit(update(1, client: "a"))
            sender.send([.bytes(Array("ack 1".utf8))], after: ticket)
            sender.send([.bytes(Array("grant".utf8))], after: ticket)
            #expect(posted.withLock { $0.isEmpty })
            release.signal()
            // Returns once the thread is done, its last release included.
            writer.stop()
            let seen = posted.withLock { $0 }
            #expect(seen.map(\.ack) == ["ack 1", "grant"])
            #expect(seen.allSatisfy { $0.stored })
        }
    }

    /// A server reports a durable ticket per commit, for as long as it runs. The sink was
    /// once kept in a tuple behind the mutex, and every access wrapped it in two more
    /// reabstraction thunks: each message then went through a chain as long as the run, and
    /// after some 10^5 reports the call overflowed the stack.
    @Test("the sender's way out stays one call, however many reports it has seen")
    func sinkDoesNotGrowWithReports() {
        let sender = GatedSender()
        let delivered = Mutex(0)
        sender.attach(sink: { _ in delivered.withLock { $0 += 1 } })
        for ticket in 1...1_000_000 { sender.durable(through: UInt64(ticket)) }
        sender.send([.bytes([1])], after: 1_000_000)
        #expect(delivered.withLock { $0 } == 1)
    }
}

/// Calls `body` with a store in a new directory (checkpoints of 64 values and more in files),
/// holding run "run" at version 0 with 100 zeros; removes the directory afterwards.
func withWriterStore<T>(logger: Logger, _ body: (CheckpointStore) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("sextant-writer-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let store = try CheckpointStore(
        path: directory.appendingPathComponent("checkpoints.sqlite").path, logger: logger, fileThreshold: 256)
    try store.startRun(id: "run", config: "", fingerprint: "f", initialParameters: [Float](repeating: 0, count: 100))
    return try await body(store)
}
