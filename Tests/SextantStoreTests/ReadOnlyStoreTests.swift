import Foundation
import Testing

@testable import SextantStore

#if canImport(Glibc)
    import Glibc
#endif

/// Read-only tools are read-only (docs/design.md, "Trust no claim"): opening a store to
/// look writes nothing, not even to a file that is not a Sextant database.
@Suite("Opening read-only", .serialized)
struct ReadOnlyStoreTests {
    /// The bytes, size and modification time of `path` and whether -wal/-shm exist beside it.
    struct Fingerprint: Equatable {
        var bytes: Data
        var modified: Date?
        var companions: [Bool]

        init(_ path: String) throws {
            bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            modified = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date
            companions = ["-wal", "-shm", "-journal"].map { FileManager.default.fileExists(atPath: path + $0) }
        }
    }

    /// A closed database with one run and two checkpoints, as a copy handed to an auditor.
    func makeClosedDatabase(in directory: URL) throws -> String {
        let store = try makeStore(in: directory)
        try store.startRun(id: "run-1", config: "", fingerprint: "f", initialParameters: vector(4, seed: 0))
        try store.commitAggregation(run: "run-1", version: 1, parameters: vector(4, seed: 1), appliedUpdates: [])
        try store.close()
        return store.path
    }

    @Test("an empty file is named as what it is and left untouched")
    func emptyFileIsNotADatabase() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("empty.sqlite").path
            #expect(FileManager.default.createFile(atPath: path, contents: Data()))
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: 1_000_000)], ofItemAtPath: path)
            let before = try Fingerprint(path)
            let error = #expect(throws: StoreError.self) {
                _ = try CheckpointStore(path: path, logger: testLogger, mode: .readOnly)
            }
            #expect(error?.code == .notADatabase)
            #expect(error?.message == "\(path): empty file, not a Sextant database")
            #expect(try Fingerprint(path) == before)
        }
    }

    @Test("a file that is not SQLite, or SQLite of another application, is named and untouched")
    func foreignFilesAreUntouched() throws {
        try withTemporaryDirectory { directory in
            let text = directory.appendingPathComponent("notes.txt").path
            try Data("hello, not a database\n".utf8).write(to: URL(fileURLWithPath: text))
            let before = try Fingerprint(text)
            let error = #expect(throws: StoreError.self) {
                _ = try CheckpointStore(path: text, logger: testLogger, mode: .readOnly)
            }
            #expect(error?.code == .notADatabase)
            #expect(error?.message.contains("not a SQLite database") == true, "\(error?.message ?? "")")
            #expect(try Fingerprint(text) == before)
        }
    }

    @Test("a missing file is not created")
    func missingFileIsNotCreated() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("absent.sqlite").path
            let error = #expect(throws: StoreError.self) {
                _ = try CheckpointStore(path: path, logger: testLogger, mode: .readOnly)
            }
            #expect(error?.code == .cannotOpen)
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test("list, verify and export read a closed database without changing a byte")
    func readingChangesNothing() throws {
        try withTemporaryDirectory { directory in
            let path = try makeClosedDatabase(in: directory)
            let before = try Fingerprint(path)
            let store = try CheckpointStore(path: path, logger: testLogger, mode: .readOnly)
            #expect(try store.runs().map(\.id) == ["run-1"])
            #expect(try store.checkpointSummaries(run: "run-1").map(\.version) == [0, 1])
            #expect(try store.verify().isOK)
            try store.export(run: "run-1", to: directory.appendingPathComponent("model.sxm"))
            #expect(throws: StoreError.self) { try store.markRun(id: "run-1", status: .stopped) }
            try store.close()
            #expect(try Fingerprint(path) == before)
        }
    }

    @Test("a database in a read-only directory can be read")
    func readOnlyDirectory() throws {
        try withTemporaryDirectory { directory in
            let inner = directory.appendingPathComponent("copy")
            try FileManager.default.createDirectory(at: inner, withIntermediateDirectories: true)
            let path = try makeClosedDatabase(in: inner)
            chmod(path, 0o400)
            chmod(inner.path, 0o500)
            defer { chmod(inner.path, 0o700) }
            // As root the permission bits do not stop writes; the fingerprint still proves none happened.
            let before = try Fingerprint(path)
            let listing = try FileManager.default.contentsOfDirectory(atPath: inner.path).sorted()
            let store = try CheckpointStore(path: path, logger: testLogger, mode: .readOnly)
            #expect(try store.verify().isOK)
            #expect(try store.latestSoundCheckpoint(run: "run-1").checkpoint?.version == 1)
            try store.close()
            #expect(try Fingerprint(path) == before)
            #expect(try FileManager.default.contentsOfDirectory(atPath: inner.path).sorted() == listing)
        }
    }

    @Test("a database on a read-only mount can be read (root only)")
    func readOnlyMount() throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/mount") else {
            print("skipped: mounting a read-only copy needs root and mount(8)")
            return
        }
        try withTemporaryDirectory { directory in
            let source = directory.appendingPathComponent("source")
            let mountPoint = directory.appendingPathComponent("ro")
            try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
            _ = try makeClosedDatabase(in: source)
            guard run("/usr/bin/mount", ["--bind", "-o", "ro", source.path, mountPoint.path]) == 0 else {
                print("skipped: this sandbox does not allow a read-only bind mount")
                return
            }
            defer { _ = run("/usr/bin/umount", [mountPoint.path]) }
            let path = mountPoint.appendingPathComponent("checkpoints.sqlite").path
            let before = try Fingerprint(path)
            let store = try CheckpointStore(path: path, logger: testLogger, mode: .readOnly)
            #expect(try store.verify().isOK)
            try store.close()
            #expect(try Fingerprint(path) == before)
        }
    }

    private func run(_ executable: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
