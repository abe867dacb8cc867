import Foundation
import GRDB
import Testing

@testable import SextantStore

/// A checkpoint is verified where it is used (docs/design.md, "Trust no claim"): a restart
/// resumes from the newest checkpoint that matches its SHA-256, never from damage.
@Suite("Sound checkpoints")
struct SoundCheckpointTests {
    /// Versions 0 to 3 of run-1, each with its own parameters, and one applied update each.
    func makeRun(in directory: URL) throws -> CheckpointStore {
        let store = try makeStore(in: directory)
        try store.startRun(id: "run-1", config: "", fingerprint: "f", initialParameters: vector(4, seed: 0))
        for version in 1...3 {
            let update = try store.recordUpdate(submission(client: "a", sequence: version, baseVersion: version - 1))
            try store.commitAggregation(
                run: "run-1", version: version, parameters: vector(4, seed: Float(version)),
                appliedUpdates: [AppliedUpdate(id: update.id, staleness: 0)],
                schedulerState: ["scheduler": Data("{\"version\":\(version)}".utf8), "privacy": Data([7])])
        }
        return store
    }

    /// Overwrites the blob of `version` with bytes of the same length: its hash no longer matches.
    func damage(_ store: CheckpointStore, version: Int) throws {
        try store.pool.write { db in
            try db.execute(
                sql: "UPDATE checkpoints SET parameters = ? WHERE run = 'run-1' AND version = ?",
                arguments: [Data(repeating: 0x41, count: 16), version])
        }
    }

    @Test("the newest sound checkpoint is found and the damaged newer ones are named")
    func newestSoundCheckpoint() throws {
        try withTemporaryDirectory { directory in
            let store = try makeRun(in: directory)
            try damage(store, version: 3)
            try damage(store, version: 2)
            let found = try store.latestSoundCheckpoint(run: "run-1")
            #expect(found.checkpoint?.version == 1)
            #expect(found.checkpoint?.parameters == vector(4, seed: 1))
            #expect(found.skipped.map(\.version) == [3, 2])
            #expect(found.skipped.allSatisfy { $0.issues.contains { $0.contains("SHA-256") } })
            // Nothing was changed by looking.
            #expect(try store.checkpointVersions(run: "run-1") == [0, 1, 2, 3])
        }
    }

    @Test("resuming past damage sets it aside so a new version can be committed")
    func resumeSetsDamageAside() throws {
        try withTemporaryDirectory { directory in
            let store = try makeRun(in: directory)
            // Acknowledged, not yet applied: one trained on version 1, one on version 3.
            let onOne = try store.recordUpdate(submission(client: "b", sequence: 1, baseVersion: 1))
            let onThree = try store.recordUpdate(submission(client: "c", sequence: 1, baseVersion: 3))
            try damage(store, version: 3)
            try damage(store, version: 2)

            let resumption = try store.resume(run: "run-1", discardingState: ["scheduler"])
            #expect(resumption.checkpoint?.version == 1)
            #expect(resumption.skipped.map(\.version) == [3, 2])
            #expect(try store.checkpointVersions(run: "run-1") == [0, 1])
            // The update based on a skipped version is not replayed; the other one is.
            #expect(try store.pendingUpdates(run: "run-1").map(\.id) == [onOne.id])
            let states = Dictionary(uniqueKeysWithValues: try store.updates(run: "run-1").map { ($0.id, $0.state) })
            #expect(states[onThree.id] == .discarded)
            // Scheduler state of the skipped versions is dropped; the rest is kept.
            #expect(try store.schedulerState(run: "run-1") == ["privacy": Data([7])])
            // The next version can be committed, and verify is clean again.
            try store.commitAggregation(
                run: "run-1", version: 2, parameters: vector(4, seed: 9),
                appliedUpdates: [AppliedUpdate(id: onOne.id, staleness: 0)])
            let report = try store.verify()
            #expect(report.isOK, "\(report)")
        }
    }

    @Test("a sound latest checkpoint is resumed from with nothing skipped or changed")
    func soundRunResumesAsBefore() throws {
        try withTemporaryDirectory { directory in
            let store = try makeRun(in: directory)
            let pending = try store.recordUpdate(submission(client: "b", sequence: 1, baseVersion: 3))
            let resumption = try store.resume(run: "run-1", discardingState: ["scheduler"])
            #expect(resumption.checkpoint?.version == 3 && resumption.skipped.isEmpty)
            #expect(try store.pendingUpdates(run: "run-1").map(\.id) == [pending.id])
            #expect(try store.schedulerState(run: "run-1").keys.sorted() == ["privacy", "scheduler"])
        }
    }

    @Test("export refuses a damaged checkpoint, naming it and the newest sound one")
    func exportNamesTheDamage() throws {
        try withTemporaryDirectory { directory in
            let store = try makeRun(in: directory)
            try damage(store, version: 3)
            let target = directory.appendingPathComponent("model.sxm")
            let error = #expect(throws: StoreError.self) { try store.export(run: "run-1", to: target) }
            #expect(error?.message.contains("run-1@3") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("--version 2") == true, "\(error?.message ?? "")")
            #expect(!FileManager.default.fileExists(atPath: target.path))
        }
    }

    @Test("verify covers the run, the stored updates and the scheduler state")
    func verifyCoversMoreThanCheckpoints() throws {
        try withTemporaryDirectory { directory in
            let store = try makeRun(in: directory)
            #expect(try store.verify().isOK)
            _ = try store.recordUpdate(submission(client: "b", sequence: 1, baseVersion: 3))
            try store.pool.write { db in
                // A buffered delta of the wrong length, an update applied in a version
                // that does not exist, and scheduler state of another version.
                try db.execute(sql: "UPDATE update_segments SET count = 3")
                try db.execute(sql: "UPDATE updates SET applied_version = 9 WHERE sequence = 2 AND client = 'a'")
                try db.execute(
                    sql: "UPDATE scheduler_state SET value = ? WHERE key = 'scheduler'",
                    arguments: [Data("{\"kind\":\"fedavg\",\"state\":{\"version\":2}}".utf8)])
            }
            let report = try store.verify()
            #expect(!report.isOK)
            let text = "\(report)"
            #expect(text.contains("3 values"), "\(text)")
            #expect(text.contains("version 9"), "\(text)")
            #expect(text.contains("scheduler"), "\(text)")
        }
    }
}
