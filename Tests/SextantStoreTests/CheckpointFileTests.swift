import Foundation
import GRDB
import Testing

@testable import SextantStore

@Suite("Checkpoints stored as files beside the database")
struct CheckpointFileTests {
    private func files(of store: CheckpointStore) throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: store.blobs.path))
    }

    private func fileName(_ values: [Float]) -> String {
        "\(ParameterBlob.sha256Hex(values)).f32"
    }

    /// Versions 0...last of run-1, each with its own 100 parameters.
    private func makeRun(in directory: URL, upTo last: Int) throws -> CheckpointStore {
        let store = try makeFileStore(in: directory)
        try store.startRun(id: "run-1", config: "", fingerprint: "f", initialParameters: vector(100, seed: 0))
        for version in stride(from: 1, through: last, by: 1) {
            try store.commitAggregation(
                run: "run-1", version: version, parameters: vector(100, seed: Float(version)), appliedUpdates: [])
        }
        return store
    }

    @Test func largeCheckpointIsAFileNamedByItsHashAndReadEverywhere() throws {
        try withTemporaryDirectory { directory in
            do {
                let store = try makeRun(in: directory, upTo: 1)
                #expect(try files(of: store) == [fileName(vector(100, seed: 0)), fileName(vector(100, seed: 1))])
                let inline = try store.read("count") {
                    try Int.fetchOne($0, sql: "SELECT count(*) FROM checkpoints WHERE parameters IS NOT NULL")
                }
                #expect(inline == 0)
                #expect(try store.latestCheckpoint(run: "run-1")?.parameters == vector(100, seed: 1))
                #expect(try store.latestCheckpoint(run: "run-1")?.isSound == true)
                #expect(try store.checkpointSummaries(run: "run-1").map(\.byteSize) == [400, 400])
                try store.close()
            }
            let reader = try makeFileStore(in: directory, mode: .readOnly)
            #expect(try reader.checkpoint(run: "run-1", version: 0)?.parameters == vector(100, seed: 0))
            let report = try reader.verify()
            #expect(report.isOK, "\(report)")
            #expect(report.checkpointsChecked == 2)
            var walked: [Int] = []
            try reader.forEachCheckpoint(run: "run-1") { checkpoint in
                #expect(checkpoint.isSound)
                walked.append(checkpoint.version)
                return true
            }
            #expect(walked == [0, 1])
            let exported = try reader.export(run: "run-1", to: directory.appendingPathComponent("model.sxm"))
            #expect(exported.parameters == vector(100, seed: 1))
        }
    }

    @Test func smallCheckpointStaysInSQLite() throws {
        try withTemporaryDirectory { directory in
            let store = try makeFileStore(in: directory)
            try store.startRun(id: "run-1", config: "", fingerprint: "f", initialParameters: vector(63, seed: 0))
            #expect(try files(of: store).isEmpty)
            #expect(try store.latestCheckpoint(run: "run-1")?.parameters == vector(63, seed: 0))
        }
    }

    @Test func damagedOrMissingCheckpointFileIsNamedSkippedAndNotExported() throws {
        try withTemporaryDirectory { directory in
            let store = try makeRun(in: directory, upTo: 2)
            let path = store.blobs.filePath(sha256: ParameterBlob.sha256Hex(vector(100, seed: 2)))
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[9] ^= 0x10
            try bytes.write(to: URL(fileURLWithPath: path))

            let report = try store.verify()
            #expect(report.checkpointProblems.map(\.version) == [2])
            #expect(report.checkpointProblems.first?.issues.first?.contains("hashes to") == true)
            #expect(try store.latestSoundCheckpoint(run: "run-1").checkpoint?.version == 1)
            #expect {
                try store.export(run: "run-1", to: directory.appendingPathComponent("model.sxm"))
            } throws: { ($0 as? StoreError)?.code == .invalidData }

            try FileManager.default.removeItem(atPath: path)
            #expect(try store.verify().checkpointProblems.first?.issues.first?.contains("missing") == true)
            #expect {
                try store.checkpoint(run: "run-1", version: 2)
            } throws: { ($0 as? StoreError)?.message.contains("missing") == true }

            // Resuming sets the damaged version aside; the next one is committed over it.
            let resumption = try store.resume(run: "run-1", discardingState: [])
            #expect(resumption.checkpoint?.version == 1)
            try store.commitAggregation(run: "run-1", version: 2, parameters: vector(100, seed: 7), appliedUpdates: [])
            #expect(try store.verify().isOK)
        }
    }

    @Test func prunedCheckpointsLeaveNoFileAndSharedFilesStayWhileNamed() throws {
        try withTemporaryDirectory { directory in
            let store = try makeRun(in: directory, upTo: 3)
            // Version 4 holds the same parameters as version 3: one file for both.
            try store.commitAggregation(run: "run-1", version: 4, parameters: vector(100, seed: 3), appliedUpdates: [])
            #expect(try files(of: store).count == 4)
            #expect(try store.prune(run: "run-1", keepLast: 1) == [1, 2, 3])
            #expect(try files(of: store) == [fileName(vector(100, seed: 0)), fileName(vector(100, seed: 3))])
            #expect(try store.latestCheckpoint(run: "run-1")?.isSound == true)
            #expect(try store.verify().isOK)
        }
    }

    @Test func aCheckpointWhoseRowFailsLeavesNoFile() throws {
        try withTemporaryDirectory { directory in
            let store = try makeRun(in: directory, upTo: 1)
            // Version 1 exists already: the transaction fails after the file was written.
            #expect(throws: StoreError.self) {
                try store.commitAggregation(
                    run: "run-1", version: 1, parameters: vector(100, seed: 5), appliedUpdates: [])
            }
            #expect(try files(of: store) == [fileName(vector(100, seed: 0)), fileName(vector(100, seed: 1))])
        }
    }

    @Test func orphanCheckpointFilesAreRemovedAndNamedOnesKept() throws {
        try withTemporaryDirectory { directory in
            let blobs: BlobDirectory
            do {
                let store = try makeRun(in: directory, upTo: 1)
                _ = try store.recordUpdate(submission(client: "a", sequence: 1, delta: vector(100, seed: 8)))
                blobs = store.blobs
                try store.close()
            }
            // A checkpoint written before a crash that came before its row committed.
            let orphan = vector(100, seed: 6)
            #expect(
                FileManager.default.createFile(
                    atPath: blobs.filePath(sha256: ParameterBlob.sha256Hex(orphan)),
                    contents: ParameterBlob.encode(orphan)))
            let store = try makeFileStore(in: directory)
            #expect(try store.removeOrphanBlobs() == 1)
            #expect(try files(of: store).count == 3)
            #expect(try store.verify().isOK)
        }
    }

    @Test func databaseWithBlobCheckpointsIsMigratedAndReadInBothForms() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("checkpoints.sqlite").path
            do {
                let queue = try olderSchemaDatabase(at: path, upTo: "v2-update-files")
                try queue.write { db in
                    let blob = ParameterBlob.encode(vector(100, seed: 0))
                    try db.execute(
                        sql: """
                            INSERT INTO checkpoints (run, version, created, parameters, count, sha256)
                            VALUES ('run-1', 0, 0, ?, 100, ?)
                            """,
                        arguments: [blob, ParameterBlob.sha256Hex(blob)])
                }
                try queue.close()
            }
            let store = try makeFileStore(in: directory)
            #expect(try store.latestCheckpoint(run: "run-1")?.parameters == vector(100, seed: 0))
            try store.commitAggregation(run: "run-1", version: 1, parameters: vector(100, seed: 1), appliedUpdates: [])
            #expect(try files(of: store) == [fileName(vector(100, seed: 1))])
            #expect(try store.checkpoint(run: "run-1", version: 0)?.isSound == true)
            #expect(try store.checkpoint(run: "run-1", version: 1)?.parameters == vector(100, seed: 1))
            let report = try store.verify()
            #expect(report.isOK, "\(report)")
            #expect(report.checkpointsChecked == 2)
            // A blob checkpoint is still checked against its hash.
            try store.pool.write { db in
                try db.execute(sql: "UPDATE checkpoints SET parameters = zeroblob(400) WHERE version = 0")
            }
            #expect(try store.verify().checkpointProblems.map(\.version) == [0])
        }
    }
}
