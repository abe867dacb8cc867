import Foundation
import Testing

@testable import SextantStore

@Suite("A site's applied update leaves no trace in the database file")
struct FreePageScrubTests {
    /// A delta whose bytes cannot occur by chance: a 32-bit marker repeated.
    private static let marker: UInt32 = 0x5E47_A17D
    private static let delta = [Float](repeating: Float(bitPattern: marker), count: 50_000)

    /// Whether the database file holds 64 bytes of the marker in a row.
    private func fileHoldsDelta(_ path: String) throws -> Bool {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let needle = Data(Self.delta.prefix(16).withUnsafeBytes { Array($0) })
        return bytes.range(of: needle) != nil
    }

    /// A store in `directory` that recorded an update with the marked delta and applied it:
    /// its row and delta are gone. Returns the store and its database's path.
    private func storeWithAppliedMarkedUpdate(in directory: URL) throws -> (CheckpointStore, String) {
        let store = try makeStore(in: directory)
        try store.startRun(id: "run-1", config: "", fingerprint: "f", initialParameters: vector(8, seed: 0))
        let update = try store.recordUpdate(submission(client: "a", sequence: 1, delta: Self.delta))
        try store.commitAggregation(
            run: "run-1", version: 1, parameters: vector(8, seed: 1),
            appliedUpdates: [AppliedUpdate(id: update.id, staleness: 0)], schedulerState: [:])
        return (store, directory.appendingPathComponent("checkpoints.sqlite").path)
    }

    @Test("while the run goes on, freed pages are not zeroed: the next deltas take them as they are")
    func freedPagesAreNotZeroedDuringTheRun() throws {
        try withTemporaryDirectory { directory in
            let (store, path) = try storeWithAppliedMarkedUpdate(in: directory)
            // The applied delta's pages are free, with its bytes, once the WAL is in the file.
            _ = try store.pool.writeWithoutTransaction { try $0.checkpoint(.truncate) }
            #expect(try fileHoldsDelta(path))
        }
    }

    @Test("scrubbing zeroes every free page: the closed file holds no applied delta, and stays sound")
    func scrubbingLeavesNoTrace() throws {
        try withTemporaryDirectory { directory in
            let (store, path) = try storeWithAppliedMarkedUpdate(in: directory)
            #expect(try store.scrubFreePages() > 0)
            try store.close()
            #expect(try !fileHoldsDelta(path))
            let reopened = try makeStore(in: directory)
            #expect(try reopened.verify().isOK)
            #expect(try reopened.latestCheckpoint(run: "run-1")?.version == 1)
        }
    }
}
