import Foundation
import Synchronization
import Testing

@testable import SextantStore

@Suite("Runs, checkpoints and updates")
struct CheckpointStoreTests {
    @Test func runAndCheckpointsRoundTrip() throws {
        try withTemporaryDirectory { directory in
            let store = try makeStore(in: directory)
            let initial = vector(4, seed: 0)
            try store.startRun(
                id: "run-1", config: "rounds: 3\n", fingerprint: "mlp-4", initialParameters: initial)

            let run = try #require(try store.run(id: "run-1"))
            #expect(run.config == "rounds: 3\n")
            #expect(run.fingerprint == "mlp-4")
            #expect(run.parameterCount == 4)
            #expect(run.status == .running)
            #expect(try store.latestRun()?.id == "run-1")

            let update = try store.recordUpdate(submission(client: "a", sequence: 1))
            let next = vector(4, seed: 1)
            try store.commitAggregation(
                run: "run-1", version: 1, parameters: next,
                metrics: ["accuracy": 0.5, "loss": .nan], epsilon: 0.25,
                appliedUpdates: [AppliedUpdate(id: update.id, staleness: 0)],
                schedulerState: ["groups": Data([1, 2, 3])])

            let latest = try #require(try store.latestCheckpoint(run: "run-1"))
            #expect(latest.version == 1)
            #expect(latest.parameters == next)
            #expect(latest.metrics["accuracy"] == 0.5)
            #expect(latest.metrics["loss"]?.isNaN == true)
            #expect(latest.epsilon == 0.25)
            #expect(try store.checkpoint(run: "run-1", version: 0)?.parameters == initial)
            #expect(try store.checkpoint(run: "run-1", version: 0)?.epsilon == nil)
            #expect(try store.checkpointVersions(run: "run-1") == [0, 1])
            #expect(try store.schedulerState(run: "run-1") == ["groups": Data([1, 2, 3])])

            let history = try store.updates(run: "run-1")
            #expect(history.count == 1)
            #expect(history[0].state == .applied)
            #expect(history[0].appliedVersion == 1)
            #expect(history[0].staleness == 0)
            #expect(history[0].normBefore == 2.0)
            #expect(try store.pendingUpdates(run: "run-1").isEmpty)

            try store.markRun(id: "run-1", status: .completed)
            let finished = try #require(try store.run(id: "run-1"))
            #expect(finished.status == .completed)
            #expect(finished.finished != nil)
        }
    }

    @Test func storedHashIsTheSHA256OfTheBlob() throws {
        try withTemporaryDirectory { directory in
            let store = try makeStore(in: directory)
            let parameters: [Float] = [1, -2.5, .pi, 0]
            try store.startRun(id: "run-1", config: "", fingerprint: "f", initialParameters: parameters)
            let checkpoint = try #require(try store.checkpoint(run: "run-1", version: 0))
            // Little-endian Float32 bytes of the vector, spelled out independently.
            var bytes: [UInt8] = []
            for value in parameters {
                let bits = value.bitPattern
                bytes += [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: bits >> $0) }
            }
            #expect(checkpoint.sha256 == ParameterBlob.sha256Hex(Data(bytes)))
            #expect(checkpoint.sha256.count == 64)
            // The SHA-256 of the empty string, a published value, checks the hex encoding.
            #expect(
                ParameterBlob.sha256Hex(Data())
                    == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        }
    }

    @Test func retriedUpdateIsADuplicate() throws {
        try withTemporaryDirectory { directory in
            let store = try makeStore(in: directory)
            try store.startRun(
                id: "run-1", config: "", fingerprint: "f", initialParameters: vector(4, seed: 0))
            let first = try store.recordUpdate(submission(client: "a", sequence: 7))
            let retry = try store.recordUpdate(submission(client: "a", sequence: 7))
            let other = try store.recordUpdate(submission(client: "b", sequence: 7))
            #expect(first == .stored(first.id))
            #expect(retry == .duplicate(first.id))
            #expect(other.isDuplicate == false)
            #expect(try store.updates(run: "run-1").count == 2)
        }
    }

    @Test func failedAggregationLeavesNothingApplied() throws {
        try withTemporaryDirectory { directory in
            let store = try makeStore(in: directory)
            try store.startRun(
                id: "run-1", config: "", fingerprint: "f", initialParameters: vector(4, seed: 0))
            let update = try store.recordUpdate(submission(client: "a", sequence: 1))
            try store.saveSchedulerState(run: "run-1", state: ["groups": Data([0])])

            // Version 0 exists already: the checkpoint insert violates the primary key.
            #expect {
                try store.commitAggregation(
                    run: "run-1", version: 0, parameters: vector(4, seed: 9),
                    appliedUpdates: [AppliedUpdate(id: update.id, staleness: 0)],
                    schedulerState: ["groups": Data([1])])
            } throws: { ($0 as? StoreError)?.code == .constraintViolation }

            // The failure comes last (unknown update id): the checkpoint must be rolled back.
            #expect {
                try store.commitAggregation(
                    run: "run-1", version: 1, parameters: vector(4, seed: 9),
                    appliedUpdates: [
                        AppliedUpdate(id: update.id, staleness: 0), AppliedUpdate(id: 999, staleness: 0),
                    ],
                    schedulerState: ["groups": Data([1])])
            } throws: { ($0 as? StoreError)?.code == .invalidData }

            #expect(try store.checkpointVersions(run: "run-1") == [0])
            #expect(try store.checkpoint(run: "run-1", version: 0)?.parameters == vector(4, seed: 0))
            #expect(try store.schedulerState(run: "run-1") == ["groups": Data([0])])
            let pending = try store.pendingUpdates(run: "run-1")
            #expect(pending.map(\.id) == [update.id])
            #expect(pending.first?.delta == vector(4, seed: -1))
        }
    }

    @Test func fullDiskFailsTheWholeAggregation() throws {
        try withTemporaryDirectory { directory in
            let store = try makeStore(in: directory)
            try store.startRun(
                id: "run-1", config: "", fingerprint: "f", initialParameters: vector(20_000, seed: 0))
            let update = try store.recordUpdate(submission(client: "a", sequence: 1))
            // Cap the file at its current size: the next 80 kB checkpoint cannot fit.
            try store.pool.writeWithoutTransaction { db in
                let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
                try db.execute(sql: "PRAGMA max_page_count = \(pages)")
            }
            #expect {
                try store.commitAggregation(
                    run: "run-1", version: 1, parameters: vector(20_000, seed: 1),
                    appliedUpdates: [AppliedUpdate(id: update.id, staleness: 0)],
                    schedulerState: ["groups": Data([1])])
            } throws: { error in
                guard let error = error as? StoreError else { return false }
                return error.code == .diskFull
                    && error.message.contains("nothing of this operation was saved")
            }
            #expect(try store.checkpointVersions(run: "run-1") == [0])
            #expect(try store.pendingUpdates(run: "run-1").map(\.id) == [update.id])
            #expect(try store.schedulerState(run: "run-1").isEmpty)
        }
    }

    @Test func wrongParameterCountIsRefused() throws {
        try withTemporaryDirectory { directory in
            let store = try makeStore(in: directory)
            try store.startRun(
                id: "run-1", config: "", fingerprint: "f", initialParameters: vector(4, seed: 0))
            #expect {
                try store.commitAggregation(
                    run: "run-1", version: 1, parameters: vector(3, seed: 0), appliedUpdates: [])
            } throws: { ($0 as? StoreError)?.code == .invalidData }
            #expect {
                try store.markRun(id: "nope", status: .failed)
            } throws: { ($0 as? StoreError)?.code == .notFound }
        }
    }

    @Test func pendingUpdatesSurviveReopening() throws {
        try withTemporaryDirectory { directory in
            var ids: [Int64] = []
            do {
                let store = try makeStore(in: directory)
                try store.startRun(
                    id: "run-1", config: "", fingerprint: "f", initialParameters: vector(4, seed: 0))
                ids.append(try store.recordUpdate(submission(client: "a", sequence: 1)).id)
                ids.append(try store.recordUpdate(submission(client: "b", sequence: 1, delta: nil)).id)
                let applied = try store.recordUpdate(submission(client: "c", sequence: 1)).id
                let dropped = try store.recordUpdate(submission(client: "d", sequence: 1)).id
                try store.commitAggregation(
                    run: "run-1", version: 1, parameters: vector(4, seed: 1),
                    appliedUpdates: [AppliedUpdate(id: applied, staleness: 0)])
                try store.discardUpdates(run: "run-1", ids: [dropped])
                try store.close()
            }
            let reopened = try makeStore(in: directory)
            let pending = try reopened.pendingUpdates(run: "run-1")
            #expect(pending.map(\.id) == ids)
            #expect(pending.map(\.client) == ["a", "b"])
            #expect(pending[0].delta == vector(4, seed: -1))
            #expect(pending[1].delta == nil)
            #expect(pending.allSatisfy { $0.state == .buffered })
            #expect(try reopened.latestCheckpoint(run: "run-1")?.version == 1)
        }
    }

    @Test func concurrentWritersAndReadersShareOneStore() throws {
        try withTemporaryDirectory { directory in
            let store = try makeStore(in: directory)
            try store.startRun(
                id: "run-1", config: "", fingerprint: "f", initialParameters: vector(4, seed: 0))
            let failures = Mutex(0)
            DispatchQueue.concurrentPerform(iterations: 16) { index in
                do {
                    _ = try store.recordUpdate(submission(client: "c\(index % 4)", sequence: index / 4))
                    _ = try store.latestCheckpoint(run: "run-1")
                    _ = try store.pendingUpdates(run: "run-1")
                } catch {
                    failures.withLock { $0 += 1 }
                }
            }
            #expect(failures.withLock { $0 } == 0)
            #expect(try store.pendingUpdates(run: "run-1").count == 16)
        }
    }

    @Test func clientsAreUpserted() throws {
        try withTemporaryDirectory { directory in
            let store = try makeStore(in: directory)
            try store.startRun(id: "run-1", config: "", fingerprint: "f", initialParameters: [0])
            let seen = Date(timeIntervalSince1970: 1_700_000_000)
            var client = ClientRecord(
                id: "a", authIdentity: "key-a", displayName: "Lab A", samples: 10, lastSeen: seen,
                fields: ["platform": "linux"])
            try store.upsertClient(run: "run-1", client)
            client.speed = 0.15
            client.samples = 12
            try store.upsertClient(run: "run-1", client)
            try store.upsertClient(run: "run-1", ClientRecord(id: "b", samples: 3, lastSeen: seen))
            let clients = try store.clients(run: "run-1")
            #expect(clients == [client, ClientRecord(id: "b", samples: 3, lastSeen: seen)])
        }
    }
}
