import Foundation
import Testing

@testable import SextantStore

@Suite("A site's applied update leaves no trace in the database or beside it")
struct FreePageScrubTests {
    /// A vector whose bytes cannot occur by chance: a 32-bit marker repeated.
    private static let marker: UInt32 = 0x5E47_A17D
    private static let marked = [Float](repeating: Float(bitPattern: marker), count: 50_000)

    /// Whether the file holds 64 bytes of the marker in a row.
    private func holdsMarker(_ path: String) throws -> Bool {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let needle = Data(Self.marked.prefix(16).withUnsafeBytes { Array($0) })
        return bytes.range(of: needle) != nil
    }

    /// A store in `directory` whose run committed the marked vector as version 1 and pruned
    /// it: its pages are free. Returns the store and its database's path.
    private func storeWithPrunedMarkedCheckpoint(in directory: URL) throws -> (CheckpointStore, String) {
        let store = try makeStore(in: directory)
        try store.startRun(id: "run-1", config: "", fingerprint: "f", initialParameters: vector(50_000, seed: 0))
        for (version, parameters) in [(1, Self.marked), (2, vector(50_000, seed: 2))] {
            try store.commitAggregation(run: "run-1", version: version, parameters: parameters, appliedUpdates: [])
        }
        #expect(try store.prune(run: "run-1", keepLast: 0) == [1])
        return (store, directory.appendingPathComponent("checkpoints.sqlite").path)
    }

    @Test("while the run goes on, freed pages are not zeroed: the next vectors take them as they are")
    func freedPagesAreNotZeroedDuringTheRun() throws {
        try withTemporaryDirectory { directory in
            let (store, path) = try storeWithPrunedMarkedCheckpoint(in: directory)
            // The pruned vector's pages are free, with its bytes, once the WAL is in the file.
            _ = try store.pool.writeWithoutTransaction { try $0.checkpoint(.truncate) }
            #expect(try holdsMarker(path))
        }
    }

    @Test("scrubbing zeroes every free page: the closed file holds no pruned vector, and stays sound")
    func scrubbingLeavesNoTrace() throws {
        try withTemporaryDirectory { directory in
            let (store, path) = try storeWithPrunedMarkedCheckpoint(in: directory)
            #expect(try store.scrubFreePages() > 0)
            try store.close()
            #expect(try !holdsMarker(path))
            let reopened = try makeStore(in: directory)
            #expect(try reopened.verify().isOK)
            #expect(try reopened.latestCheckpoint(run: "run-1")?.version == 2)
        }
    }

    @Test("scrubbing the segments zeroes the applied deltas' records and keeps the pending ones readable")
    func segmentScrubKeepsOnlyPendingDeltas() throws {
        try withTemporaryDirectory { directory in
            let store = try makeStore(in: directory)
            try store.startRun(id: "run-1", config: "", fingerprint: "f", initialParameters: vector(50_000, seed: 0))
            let applied = try store.recordUpdate(submission(client: "a", sequence: 1, delta: Self.marked))
            let pending = vector(50_000, seed: 3)
            _ = try store.recordUpdate(submission(client: "b", sequence: 1, delta: pending))
            try store.commitAggregation(
                run: "run-1", version: 1, parameters: vector(50_000, seed: 1),
                appliedUpdates: [AppliedUpdate(id: applied.id, staleness: 0)])
            let segment = store.segments.filePath(segment: 1)
            // The segment appends go to stays while the run goes on, applied record and all.
            #expect(try holdsMarker(segment))
            #expect(try store.scrubSegments() == Int64(DeltaSegments.headerSize + 50_000 * 4))
            #expect(try !holdsMarker(segment))
            #expect(try store.pendingUpdates(run: "run-1").map(\.delta) == [pending])
            #expect(try store.verify().isOK)
        }
    }

    @Test("scrubbing removes the segments no row names, the one appends went to included")
    func segmentScrubRemovesAppliedSegments() throws {
        try withTemporaryDirectory { directory in
            let store = try makeStore(in: directory)
            try store.startRun(id: "run-1", config: "", fingerprint: "f", initialParameters: vector(8, seed: 0))
            let update = try store.recordUpdate(submission(client: "a", sequence: 1, delta: vector(8, seed: 1)))
            try store.commitAggregation(
                run: "run-1", version: 1, parameters: vector(8, seed: 2),
                appliedUpdates: [AppliedUpdate(id: update.id, staleness: 0)])
            #expect(FileManager.default.fileExists(atPath: store.segments.filePath(segment: 1)))
            try store.scrubSegments()
            #expect(try deltaFiles(of: store).isEmpty)
            // Appends after a scrub begin a new segment.
            _ = try store.recordUpdate(submission(client: "a", sequence: 2, delta: vector(8, seed: 3)))
            #expect(try deltaFiles(of: store) == ["segment-1.log"])
        }
    }
}
