import Foundation
import GRDB
import Testing

@testable import SextantStore

@Suite("Opening a database")
struct StoreOpeningTests {
    /// The permission bits of the file at `path`.
    private func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return try #require(attributes[.posixPermissions] as? Int)
    }

    @Test func databaseAndWALFilesAreOwnerOnly() throws {
        try withTemporaryDirectory { directory in
            let store = try makeStore(in: directory)
            try store.startRun(id: "run-1", config: "", fingerprint: "f", initialParameters: [1, 2])
            for suffix in ["", "-wal", "-shm"] {
                let path = store.path + suffix
                #expect(FileManager.default.fileExists(atPath: path), "\(path) missing")
                #expect(try mode(path) == 0o600, "\(path)")
            }
        }
    }

    @Test func commitsAreSynchronousFull() throws {
        try withTemporaryDirectory { directory in
            let store = try makeStore(in: directory)
            let level = try store.pool.writeWithoutTransaction { db in
                try Int.fetchOne(db, sql: "PRAGMA synchronous")
            }
            #expect(level == 2)  // FULL
        }
    }

    @Test func garbageFileIsNotADatabase() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("garbage.sqlite").path
            try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: path))
            #expect {
                _ = try CheckpointStore(path: path, logger: testLogger)
            } throws: { error in
                guard let error = error as? StoreError else { return false }
                return error.code == .notADatabase && error.message.contains(path)
            }
        }
    }

    @Test func missingDirectoryCannotBeOpened() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("no/such/dir/db.sqlite").path
            #expect {
                _ = try CheckpointStore(path: path, logger: testLogger)
            } throws: { error in
                guard let error = error as? StoreError else { return false }
                return error.code == .cannotOpen && error.message.contains(path)
            }
        }
    }

    @Test func damagedDatabaseIsReportedNotCrashed() throws {
        try withTemporaryDirectory { directory in
            let path: String
            do {
                let store = try makeStore(in: directory)
                path = store.path
                try store.startRun(
                    id: "run-1", config: "", fingerprint: "f", initialParameters: vector(2048, seed: 0))
                try store.close()
            }
            // close() checkpointed the WAL, so the main file is the whole database.
            // Overwrite everything past its 100-byte header: the schema page is gone.
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.seek(toOffset: 100)
            try handle.write(contentsOf: Data(repeating: 0xA5, count: 6000))
            try handle.close()
            #expect {
                _ = try CheckpointStore(path: path, logger: testLogger)
            } throws: { error in
                guard let error = error as? StoreError else { return false }
                return [.corrupt, .notADatabase].contains(error.code) && error.message.contains(path)
            }
        }
    }

    @Test func newerSchemaIsRefused() throws {
        try withTemporaryDirectory { directory in
            let path: String
            do {
                let store = try makeStore(in: directory)
                path = store.path
                try store.close()
            }
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in
                try db.execute(sql: "INSERT INTO grdb_migrations VALUES ('v99-from-the-future')")
            }
            try queue.close()
            #expect {
                _ = try CheckpointStore(path: path, logger: testLogger)
            } throws: { error in
                guard let error = error as? StoreError else { return false }
                return error.code == .newerSchema && error.message.contains("v99-from-the-future")
            }
        }
    }

    @Test func someoneElsesDatabaseIsRefused() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("other.sqlite").path
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in try db.execute(sql: "CREATE TABLE photos (id INTEGER)") }
            try queue.close()
            #expect {
                _ = try CheckpointStore(path: path, logger: testLogger)
            } throws: { ($0 as? StoreError)?.code == .foreignDatabase }
        }
    }

    @Test func reopeningKeepsData() throws {
        try withTemporaryDirectory { directory in
            do {
                let store = try makeStore(in: directory)
                try store.startRun(id: "run-1", config: "c", fingerprint: "f", initialParameters: [3])
            }
            let store = try makeStore(in: directory)
            #expect(try store.latestRun()?.id == "run-1")
            #expect(try store.latestCheckpoint(run: "run-1")?.parameters == [3])
        }
    }

    @Test("a new database gets 64 KiB pages; an existing one keeps its own")
    func pageSize() throws {
        try withTemporaryDirectory { directory in
            let pageSize = { (store: CheckpointStore) in
                try store.read("page size") { try Int.fetchOne($0, sql: "PRAGMA page_size") }
            }
            let fresh = try makeStore(in: directory)
            #expect(try pageSize(fresh) == CheckpointStore.newDatabasePageSize)
            let path = directory.appendingPathComponent("old.sqlite").path
            do {
                let queue = try DatabaseQueue(path: path)
                try StoreSchema.migrator.migrate(queue)
                try queue.close()
            }
            let old = try CheckpointStore(path: path, logger: testLogger)
            #expect(try pageSize(old) == 4096)
        }
    }
}
