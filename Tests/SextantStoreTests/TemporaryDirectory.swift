import Foundation
import Logging
import SextantStore

/// Runs `body` with a fresh directory that is removed afterwards.
func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("sextant-store-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url)
}

// Quiet: the tests check results, not log lines.
let testLogger = Logger(label: "SextantStoreTests", factory: { _ in SwiftLogNoOpLogHandler() })

/// A store in `directory`, named `name`.
func makeStore(in directory: URL, name: String = "checkpoints.sqlite") throws -> CheckpointStore {
    try CheckpointStore(path: directory.appendingPathComponent(name).path, logger: testLogger)
}

/// A store in `directory` that keeps checkpoints of 64 values (256 bytes) and more in files
/// beside the database.
func makeFileStore(in directory: URL, mode: CheckpointStore.OpenMode = .readWrite) throws -> CheckpointStore {
    try CheckpointStore(
        path: directory.appendingPathComponent("checkpoints.sqlite").path, logger: testLogger, mode: mode,
        fileThreshold: 256)
}

/// A short deterministic vector; `seed` makes different vectors differ in every element.
func vector(_ count: Int, seed: Float) -> [Float] {
    (0..<count).map { Float($0) * 0.25 + seed }
}

/// An update for `client` with a small delta.
func submission(
    run: String = "run-1", client: String, sequence: Int, baseVersion: Int = 0,
    delta: [Float]? = vector(4, seed: -1)
) -> UpdateSubmission {
    UpdateSubmission(
        run: run, client: client, sequence: sequence, baseVersion: baseVersion, steps: 20,
        computeSeconds: 1.5, samples: 100, normBefore: 2.0, normAfter: 1.0, delta: delta)
}

/// The files in `store`'s blob directory, sorted, but those of its checkpoints: what its
/// deltas (and writes no row names) left there.
func deltaFiles(of store: CheckpointStore) throws -> [String] {
    let checkpoints = try store.checkpointSummaries(run: "run-1").map { "\($0.sha256).f32" }
    return try FileManager.default.contentsOfDirectory(atPath: store.blobs.path).filter { !checkpoints.contains($0) }
        .sorted()
}
