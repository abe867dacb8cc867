import Foundation
import GRDB
import Testing

@testable import SextantStore

/// Earlier builds stored a delta of 2 MiB and more in a file of its own, named by its SHA-256
/// (`update_files`); a database they left is read, verified and cleaned as before.
@Suite("Deltas that earlier builds stored as files beside the database")
struct DeltaFileTests {
    private func startRun(_ store: CheckpointStore) throws {
        try store.startRun(id: "run-1", config: "", fingerprint: "f", initialParameters: vector(100, seed: 0))
    }

    /// Records a buffered update as an earlier build did with a large delta: its file, then
    /// its rows. Returns the update's id.
    private func recordAsFile(_ store: CheckpointStore, client: String, delta: [Float]) throws -> Int64 {
        let sha256 = try delta.withUnsafeBytes { try store.blobs.write($0) }
        return try store.write("record as an earlier build") { db in
            let id = try store.insertUpdate(
                db, submission(client: client, sequence: 1, delta: nil), id: nil, delta: nil, received: 0)
            try db.execute(
                sql: "INSERT INTO update_files (update_id, count, sha256) VALUES (?, ?, ?)",
                arguments: [id.id, delta.count, sha256])
            return id.id
        }
    }

    private func files(of store: CheckpointStore) throws -> [String] {
        try deltaFiles(of: store)
    }

    @Test func largeDeltaIsAFileNamedByItsHashUntilApplied() throws {
        try withTemporaryDirectory { directory in
            let delta = vector(100, seed: 3)
            let id: Int64
            do {
                let store = try makeFileStore(in: directory)
                try startRun(store)
                id = try recordAsFile(store, client: "a", delta: delta)
                #expect(try files(of: store) == ["\(ParameterBlob.sha256Hex(delta)).f32"])
                try store.close()
            }
            let reopened = try makeFileStore(in: directory)
            #expect(try reopened.pendingUpdates(run: "run-1").map(\.delta) == [delta])
            #expect(try reopened.verify().isOK)
            try reopened.commitAggregation(
                run: "run-1", version: 1, parameters: vector(100, seed: 1),
                appliedUpdates: [AppliedUpdate(id: id, staleness: 0)])
            #expect(try files(of: reopened).isEmpty)
            #expect(try reopened.pendingUpdates(run: "run-1").isEmpty)
        }
    }

    @Test func newDeltasGoToASegmentWhateverTheirSize() throws {
        try withTemporaryDirectory { directory in
            let store = try makeFileStore(in: directory)
            try startRun(store)
            _ = try store.recordUpdate(submission(client: "a", sequence: 1, delta: vector(100, seed: 1)))
            #expect(try files(of: store) == ["segment-1.log"])
            #expect(try store.pendingUpdates(run: "run-1").map(\.delta) == [vector(100, seed: 1)])
        }
    }

    @Test func identicalDeltasShareAFileUntilTheLastIsApplied() throws {
        try withTemporaryDirectory { directory in
            let store = try makeFileStore(in: directory)
            try startRun(store)
            let delta = vector(100, seed: 2)
            let first = try recordAsFile(store, client: "a", delta: delta)
            let second = try recordAsFile(store, client: "b", delta: delta)
            #expect(try files(of: store).count == 1)
            try store.discardUpdates(run: "run-1", ids: [first])
            #expect(try files(of: store).count == 1)
            #expect(try store.pendingUpdates(run: "run-1").map(\.delta) == [delta])
            try store.discardUpdates(run: "run-1", ids: [second])
            #expect(try files(of: store).isEmpty)
        }
    }

    @Test func filesNoRowNamesAreRemovedByTheServerOnly() throws {
        try withTemporaryDirectory { directory in
            let kept = vector(100, seed: 4)
            let blobs: BlobDirectory
            do {
                let store = try makeFileStore(in: directory)
                try startRun(store)
                _ = try recordAsFile(store, client: "a", delta: kept)
                blobs = store.blobs
                try store.close()
            }
            // A write interrupted before its row committed, and one before its rename.
            let orphan = blobs.filePath(sha256: String(repeating: "0", count: 64))
            let interrupted = blobs.path + "/.incoming-1"
            for path in [orphan, interrupted] {
                #expect(FileManager.default.createFile(atPath: path, contents: Data([1, 2, 3])))
            }
            let reader = try makeFileStore(in: directory, mode: .readOnly)
            #expect(try files(of: reader).count == 3)
            try reader.close()
            // Another process may open the database read-write while a server writes a file
            // whose row is not committed yet: opening removes nothing.
            let other = try makeFileStore(in: directory)
            #expect(try files(of: other).count == 3)
            try other.close()

            let store = try makeFileStore(in: directory)
            #expect(try store.removeOrphanBlobs() == 2)
            #expect(try files(of: store) == ["\(ParameterBlob.sha256Hex(kept)).f32"])
            #expect(try store.pendingUpdates(run: "run-1").map(\.delta) == [kept])
        }
    }

    @Test func damagedOrMissingFileIsReportedAndNotReplayed() throws {
        try withTemporaryDirectory { directory in
            let store = try makeFileStore(in: directory)
            try startRun(store)
            let delta = vector(100, seed: 5)
            _ = try recordAsFile(store, client: "a", delta: delta)
            let path = store.blobs.filePath(sha256: ParameterBlob.sha256Hex(delta))
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[7] ^= 0x40
            try bytes.write(to: URL(fileURLWithPath: path))

            let report = try store.verify()
            #expect(!report.isOK)
            #expect(report.recordProblems.count == 1)
            #expect(report.recordProblems.first?.contains("hashes to") == true)
            #expect(try store.pendingUpdates(run: "run-1").map(\.delta) == [nil])

            try FileManager.default.removeItem(atPath: path)
            #expect(try store.verify().recordProblems.first?.contains("missing") == true)
        }
    }

    @Test func databaseOfTheFirstSchemaIsMigratedWithItsDeltas() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("checkpoints.sqlite").path
            do {
                let queue = try olderSchemaDatabase(at: path, upTo: "v1-initial-schema")
                try queue.write { db in
                    try db.execute(
                        sql: """
                            INSERT INTO updates (run, client, sequence, base_version, steps, compute_seconds,
                                samples, received) VALUES ('run-1', 'a', 1, 0, 1, 0, 1, 0);
                            """)
                    try db.execute(
                        sql: "INSERT INTO buffered_updates (update_id, count, delta) VALUES (1, 100, ?)",
                        arguments: [ParameterBlob.encode(vector(100, seed: 6))])
                }
                try queue.close()
            }
            let store = try makeFileStore(in: directory)
            #expect(try store.pendingUpdates(run: "run-1").map(\.delta) == [vector(100, seed: 6)])
            _ = try store.recordUpdate(submission(client: "b", sequence: 1, delta: vector(100, seed: 7)))
            #expect(
                try store.pendingUpdates(run: "run-1").map(\.delta) == [vector(100, seed: 6), vector(100, seed: 7)])
        }
    }
}
