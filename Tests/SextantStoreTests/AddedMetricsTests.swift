import Foundation
import Testing

@testable import SextantStore

@Suite("Metrics added to a checkpoint")
struct AddedMetricsTests {
    @Test("adding metrics rewrites the page that holds them, not the checkpoint's parameters")
    func addingMetricsKeepsTheParametersInPlace() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("checkpoints.sqlite").path
            let store = try makeStore(in: directory)
            try store.startRun(id: "run-1", config: "", fingerprint: "f", initialParameters: vector(200_000, seed: 0))
            try store.commitAggregation(
                run: "run-1", version: 1, parameters: vector(200_000, seed: 1), metrics: ["updates": 4],
                appliedUpdates: [], schedulerState: [:])
            let wal = { (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0 }
            _ = try store.pool.writeWithoutTransaction { try $0.checkpoint(.truncate) }
            #expect(try store.addMetrics(run: "run-1", version: 1, ["accuracy": 0.5, "loss": 2.25]))
            // One 64 KiB page and its frame header, and the commit's: not the 0.8 MB row again.
            #expect(wal() < 4 * CheckpointStore.newDatabasePageSize)
            let metrics = try #require(try store.latestCheckpoint(run: "run-1")?.metrics)
            #expect(metrics == ["updates": 4, "accuracy": 0.5, "loss": 2.25])
        }
    }
}
