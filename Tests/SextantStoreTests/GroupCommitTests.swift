import Foundation
import GRDB
import Testing

@testable import SextantStore

@Suite("Updates that arrive together share one commit")
struct GroupCommitTests {
    /// A store with run-1 started.
    private func makeRun(in directory: URL) throws -> CheckpointStore {
        let store = try makeFileStore(in: directory)
        try store.startRun(id: "run-1", config: "", fingerprint: "f", initialParameters: vector(100, seed: 0))
        return store
    }

    private func record(
        _ store: CheckpointStore, _ updates: [(id: Int64, client: String, sequence: Int, delta: [Float])]
    ) throws -> [RecordOutcome] {
        try withBuffers(updates.map(\.delta)[...]) { buffers in
            try store.recordUpdates(
                updates.indices.map { index in
                    CheckpointStore.UpdateRecord(
                        id: updates[index].id,
                        submission: submission(
                            client: updates[index].client, sequence: updates[index].sequence, delta: nil),
                        delta: buffers[index])
                })
        }
    }

    private func withBuffers<Result>(
        _ deltas: ArraySlice<[Float]>, reading buffers: [UnsafeBufferPointer<Float>] = [],
        _ body: ([UnsafeBufferPointer<Float>]) throws -> Result
    ) throws -> Result {
        guard let first = deltas.first else { return try body(buffers) }
        return try first.withUnsafeBufferPointer { buffer in
            try withBuffers(deltas.dropFirst(), reading: buffers + [buffer], body)
        }
    }

    private func files(of store: CheckpointStore) throws -> [String] {
        try deltaFiles(of: store)
    }

    @Test("a group stores every update under the ids given, their deltas in one segment")
    func groupStoresEveryUpdate() throws {
        try withTemporaryDirectory { directory in
            let store = try makeRun(in: directory)
            #expect(try store.nextUpdateID() == 1)
            let deltas = [vector(100, seed: 1), vector(10, seed: 2), vector(100, seed: 3)]
            let outcomes = try record(
                store, [(7, "a", 1, deltas[0]), (8, "b", 1, deltas[1]), (9, "c", 1, deltas[2])])
            #expect(outcomes == [.stored(7), .stored(8), .stored(9)])
            #expect(try files(of: store) == ["segment-1.log"])
            let pending = try store.pendingUpdates(run: "run-1")
            #expect(pending.map(\.id) == [7, 8, 9])
            #expect(pending.map(\.delta) == deltas)
            #expect(try store.nextUpdateID() == 10)
        }
    }

    @Test("a retry in a group is a duplicate and no row names its record")
    func retryIsDuplicate() throws {
        try withTemporaryDirectory { directory in
            let store = try makeRun(in: directory)
            _ = try record(store, [(1, "a", 5, vector(100, seed: 1))])
            let outcomes = try record(store, [(2, "b", 1, vector(100, seed: 2)), (3, "a", 5, vector(100, seed: 9))])
            #expect(outcomes == [.stored(2), .duplicate(1)])
            let named = try store.read("rows") { try Int.fetchOne($0, sql: "SELECT count(*) FROM update_segments") }
            #expect(named == 2)
            #expect(
                try store.pendingUpdates(run: "run-1").map(\.delta) == [vector(100, seed: 1), vector(100, seed: 2)])
        }
    }

    @Test("a group that fails stores none of its updates")
    func failedGroupStoresNothing() throws {
        try withTemporaryDirectory { directory in
            let store = try makeRun(in: directory)
            _ = try record(store, [(4, "a", 1, vector(100, seed: 1))])
            // The second update's id is taken: the whole group is refused.
            #expect(throws: StoreError.self) {
                try record(store, [(5, "b", 1, vector(100, seed: 2)), (4, "c", 1, vector(100, seed: 3))])
            }
            #expect(try store.pendingUpdates(run: "run-1").map(\.id) == [4])
            #expect(try store.pendingUpdates(run: "run-1").map(\.delta) == [vector(100, seed: 1)])
        }
    }
}
