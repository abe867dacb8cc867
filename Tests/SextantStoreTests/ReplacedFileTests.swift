import Foundation
import Testing

@testable import SextantStore

/// Nothing acknowledged is lost silently (docs/design.md, "Trust no claim"): a database or
/// WAL file removed or replaced under a running server makes its next write fail.
@Suite("Files replaced under the store")
struct ReplacedFileTests {
    @Test("a deleted -wal file fails the next update instead of acknowledging it")
    func deletedWAL() throws {
        try withTemporaryDirectory { directory in
            let store = try makeStore(in: directory)
            try store.startRun(id: "run-1", config: "", fingerprint: "f", initialParameters: vector(4, seed: 0))
            _ = try store.recordUpdate(submission(client: "a", sequence: 1))
            try FileManager.default.removeItem(atPath: store.path + "-wal")
            let error = #expect(throws: StoreError.self) {
                _ = try store.recordUpdate(submission(client: "a", sequence: 2))
            }
            #expect(error?.code == .fileReplaced)
            #expect(error?.message.contains("\(store.path)-wal") == true, "\(error?.message ?? "")")

            // What a kill -9 now would leave: the database file alone. Both updates are in it,
            // the acknowledged one and the one refused (a retry of it is a duplicate).
            let copy = directory.appendingPathComponent("after-kill.sqlite").path
            try FileManager.default.copyItem(atPath: store.path, toPath: copy)
            let survivor = try CheckpointStore(path: copy, logger: testLogger, mode: .readOnly)
            #expect(try survivor.updates(run: "run-1").map(\.sequence) == [1, 2])
        }
    }

    @Test("a database file replaced by another fails the next commit")
    func replacedDatabase() throws {
        try withTemporaryDirectory { directory in
            let store = try makeStore(in: directory)
            try store.startRun(id: "run-1", config: "", fingerprint: "f", initialParameters: vector(4, seed: 0))
            let copy = directory.appendingPathComponent("copy").path
            try FileManager.default.copyItem(atPath: store.path, toPath: copy)
            _ = rename(copy, store.path)
            let error = #expect(throws: StoreError.self) {
                try store.commitAggregation(
                    run: "run-1", version: 1, parameters: vector(4, seed: 1), appliedUpdates: [])
            }
            #expect(error?.code == .fileReplaced)
            #expect(error?.message.contains("replaced") == true, "\(error?.message ?? "")")
        }
    }
}
