import Foundation
import Logging
import SextantBase
import SextantRuntime
import SextantStore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `sextant bench durable`: how fast an update becomes durable, against this disk's own
/// write-and-fdatasync bandwidth for files of the same size in the same directory, measured
/// in the same run, interleaved. Deltas are appended to the store's delta segments one at a
/// time (`recordUpdate`), and all of them as one group commit (`recordUpdates`, what the
/// server does with updates that arrive together). The commit of a checkpoint of the same
/// size, with the updates it applies, is measured as a SQLite blob and as a file beside the
/// database (the store keeps checkpoints from `fileThreshold` bytes in files). Sendable.
package struct DurableBenchmark: Sendable {
    package struct Configuration: Sendable {
        package var parameterCounts = [200_000, 10_000_000]
        /// Updates recorded per repetition and per way of storing them.
        package var updates = 8
        package var repetitions = 3
        /// Where the databases and the baseline's files go (removed afterwards).
        package var directory: URL

        package init(directory: URL) {
            self.directory = directory
        }
    }

    /// What one model size measured; bandwidths in bytes per second, medians.
    package struct Result: Sendable, Codable {
        package var parameters: Int
        package var bytes: Int
        /// Files of `bytes` written and fdatasync'd one after another.
        package var diskBandwidth: Double
        /// `CheckpointStore.recordUpdate`, one update at a time.
        package var storeBandwidth: Double
        /// `CheckpointStore.recordUpdates` of all the updates at once.
        package var groupBandwidth: Double
        /// `commitAggregation` of a checkpoint of `bytes` (with the updates it applies) as a SQLite blob.
        package var checkpointBlobBandwidth: Double
        /// The same with the checkpoint as a file beside the database.
        package var checkpointFileBandwidth: Double
        /// The store's bandwidth one update at a time over the disk's.
        package var ratio: Double { storeBandwidth / diskBandwidth }

        package var checkpointBlobRatio: Double { checkpointBlobBandwidth / diskBandwidth }
        package var checkpointFileRatio: Double { checkpointFileBandwidth / diskBandwidth }
        package var groupRatio: Double { groupBandwidth / diskBandwidth }
    }

    package var configuration: Configuration
    private let logger = Logger(label: "sextant.bench.durable", factory: { _ in SwiftLogNoOpLogHandler() })

    package init(configuration: Configuration) {
        self.configuration = configuration
    }

    package func run() throws -> [Result] {
        let c = configuration
        guard c.updates > 0, c.repetitions > 0, c.parameterCounts.allSatisfy({ $0 > 0 }) else {
            throw RuntimeError(.invalidArgument, "--updates, --repetitions and every parameter count must be positive")
        }
        try FileManager.default.createDirectory(at: c.directory, withIntermediateDirectories: true)
        return try c.parameterCounts.map(measure)
    }

    private func measure(parameters: Int) throws -> Result {
        let delta = (0..<parameters).map { Float($0 % 1000) * 1e-4 }
        let bytes = parameters * MemoryLayout<Float>.size
        var disk: [Double] = []
        var single: [Double] = []
        var groups: [Double] = []
        var blobCheckpoints: [Double] = []
        var fileCheckpoints: [Double] = []
        for _ in 0..<configuration.repetitions {
            disk.append(try diskSeconds(delta))
            let inline = try storeSeconds(delta, fileThreshold: .max)
            let beside = try storeSeconds(delta, fileThreshold: CheckpointStore.defaultFileThreshold)
            single += [inline.updates, beside.updates]
            groups.append(try groupSeconds(delta))
            blobCheckpoints.append(inline.checkpoint)
            fileCheckpoints.append(beside.checkpoint)
        }
        let volume = Double(bytes * configuration.updates)
        return Result(
            parameters: parameters, bytes: bytes, diskBandwidth: volume / BenchmarkTiming.median(disk),
            storeBandwidth: volume / BenchmarkTiming.median(single),
            groupBandwidth: volume / BenchmarkTiming.median(groups),
            checkpointBlobBandwidth: Double(bytes) / BenchmarkTiming.median(blobCheckpoints),
            checkpointFileBandwidth: Double(bytes) / BenchmarkTiming.median(fileCheckpoints))
    }

    /// Flushes what earlier measurements left to the file system (removed files, their
    /// discards, dirty pages) so that the next one does not pay for them.
    private func settle() {
        sync()
    }

    /// Seconds to create, write and fdatasync `updates` files of the delta's size, then
    /// sync the directory once (what durable new files need at the least).
    private func diskSeconds(_ delta: [Float]) throws -> Double {
        let directory = configuration.directory.appendingPathComponent("disk-\(UUID().uuidString)").path
        guard mkdir(directory, 0o700) == 0 else { throw RuntimeError(.storage, "cannot create \(directory)") }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var failure: String?
        settle()
        let seconds = BenchmarkTiming.seconds {
            delta.withUnsafeBytes { bytes in
                for index in 0..<configuration.updates {
                    let path = "\(directory)/\(index)"
                    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
                    guard fd >= 0 else { return failure = "cannot create \(path)" }
                    defer { close(fd) }
                    var offset = 0
                    while offset < bytes.count {
                        let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                        guard written > 0 else { return failure = "cannot write \(path)" }
                        offset += written
                    }
                    guard fdatasync(fd) == 0 else { return failure = "cannot sync \(path)" }
                }
                let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                if fd >= 0 {
                    fsync(fd)
                    close(fd)
                }
            }
        }
        if let failure { throw RuntimeError(.storage, failure) }
        return seconds
    }

    /// Seconds to record `updates` updates into a new store in one group commit, each from
    /// the same buffer.
    private func groupSeconds(_ delta: [Float]) throws -> Double {
        let directory = configuration.directory.appendingPathComponent("group-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try CheckpointStore(path: directory.appendingPathComponent("bench.sqlite").path, logger: logger)
        defer { try? store.close() }
        try store.startRun(id: "bench", config: "", fingerprint: "bench", initialParameters: delta)
        let first = try store.nextUpdateID()
        var failure: (any Error)?
        settle()
        let seconds = BenchmarkTiming.seconds {
            delta.withUnsafeBufferPointer { buffer in
                let records = (0..<configuration.updates).map { index in
                    CheckpointStore.UpdateRecord(
                        id: first + Int64(index),
                        submission: UpdateSubmission(
                            run: "bench", client: "c\(index)", sequence: 1, baseVersion: 0, steps: 1,
                            computeSeconds: 0, samples: 1, delta: nil),
                        delta: buffer)
                }
                do { _ = try store.recordUpdates(records) } catch { failure = error }
            }
        }
        if let failure { throw failure }
        return seconds
    }

    /// Seconds to record `updates` updates into a new store, each from the same buffer as
    /// the server does, and then to commit the aggregation that applies them.
    private func storeSeconds(_ delta: [Float], fileThreshold: Int) throws -> (updates: Double, checkpoint: Double) {
        let directory = configuration.directory.appendingPathComponent("store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try CheckpointStore(
            path: directory.appendingPathComponent("bench.sqlite").path, logger: logger, fileThreshold: fileThreshold)
        defer { try? store.close() }
        try store.startRun(id: "bench", config: "", fingerprint: "bench", initialParameters: delta)
        var ids: [Int64] = []
        var failure: (any Error)?
        settle()
        let updates = BenchmarkTiming.seconds {
            delta.withUnsafeBufferPointer { buffer in
                do {
                    for index in 0..<configuration.updates {
                        let submission = UpdateSubmission(
                            run: "bench", client: "c\(index)", sequence: 1, baseVersion: 0, steps: 1,
                            computeSeconds: 0, samples: 1, delta: nil)
                        ids.append(try store.recordUpdate(submission, delta: buffer).id)
                    }
                } catch {
                    failure = error
                }
            }
        }
        if let failure { throw failure }
        let model = delta.map { $0 + 1 }
        settle()
        let checkpoint = try ContinuousClock().measure {
            try store.commitAggregation(
                run: "bench", version: 1, parameters: model,
                appliedUpdates: ids.map { AppliedUpdate(id: $0, staleness: 0) })
        }
        return (updates, checkpoint.inSeconds)
    }
}
