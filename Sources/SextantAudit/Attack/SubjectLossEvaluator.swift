import Foundation
import SextantML
import SextantStore
import Synchronization

/// Computes each subject's mean loss on its audit samples under a sequence of models.
/// Sendable: it holds only values; networks are made per worker thread.
public struct SubjectLossEvaluator: Sendable {
    public let model: ModelFingerprint
    public let auditSet: Dataset
    /// The distinct subject ids of the audit set, ascending.
    public let subjects: [Int32]
    /// For each audit sample, the index of its subject in `subjects`.
    private let sampleSubject: [Int]
    private let samplesPerSubject: [Int]

    /// Checks that the audit set fits the model and names a subject for every sample.
    public init(model: ModelFingerprint, auditSet: Dataset) throws {
        guard let ids = auditSet.subjects else {
            throw AuditError(.invalidFile, "the audit set has no subject ids")
        }
        guard auditSet.count > 0 else { throw AuditError(.invalidFile, "the audit set is empty") }
        guard auditSet.shape.count == model.inputShape.count else {
            throw AuditError(
                .invalidArgument,
                "the audit set has \(auditSet.shape) features per sample, the model (\(model)) expects \(model.inputShape)"
            )
        }
        if let label = auditSet.labels.first(where: { $0 < 0 || Int($0) >= model.classCount }) {
            throw AuditError(
                .invalidArgument, "the audit set has label \(label), the model has \(model.classCount) classes")
        }
        self.model = model
        self.auditSet = auditSet
        subjects = Array(Set(ids)).sorted()
        let position = Dictionary(uniqueKeysWithValues: subjects.enumerated().map { ($1, $0) })
        sampleSubject = ids.map { position[$0]! }
        var counts = [Int](repeating: 0, count: subjects.count)
        for index in sampleSubject { counts[index] += 1 }
        samplesPerSubject = counts
    }

    /// Each subject's mean loss (in `subjects` order) under `parameters`, evaluated with
    /// `network` (which must be of ``model``; its parameters are overwritten).
    public func subjectLosses(parameters: [Float], network: Network) -> [Double] {
        network.loadParameters(parameters)
        let losses = network.perExampleLosses(on: auditSet)
        var sums = [Double](repeating: 0, count: subjects.count)
        for (loss, subject) in zip(losses, sampleSubject) { sums[subject] += Double(loss) }
        return zip(sums, samplesPerSubject).map { $0 / Double($1) }
    }

    /// Trajectories of parameter vectors held in memory (tests, small experiments).
    public func trajectories(versions: [Int], parameters: [[Float]]) -> LossTrajectories {
        precondition(versions.count == parameters.count, "one version per parameter vector")
        let network = model.makeNetwork()
        let columns = parameters.map { subjectLosses(parameters: $0, network: network) }
        return LossTrajectories(
            versions: versions, subjects: subjects,
            losses: subjects.indices.map { s in columns.map { $0[s] } })
    }

    /// Evaluates the checkpoints of `run` (only the latest with `finalOnly`), streaming
    /// them from the store one at a time: a reader thread (the caller's) decodes each
    /// checkpoint and hands it to `workers` threads, each with its own network, through
    /// a queue of `workers` slots, so at most `2 * workers + 1` parameter vectors are in
    /// memory. `progress(done, total)` is called from worker threads after each checkpoint.
    public func trajectories(
        store: CheckpointStore, run: String, finalOnly: Bool = false,
        workers: Int = ProcessInfo.processInfo.activeProcessorCount,
        progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
    ) throws -> LossTrajectories {
        let workers = max(1, workers)
        let total = finalOnly ? 1 : try store.checkpointVersions(run: run).count
        guard total > 0 else { throw AuditError(.noCheckpoints, "\(store.path): run '\(run)' has no checkpoints") }
        let queue = WorkQueue<Checkpoint>(capacity: workers)
        let results = ResultBox()
        let group = DispatchGroup()
        let evaluator = self
        for _ in 0..<workers {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                let network = evaluator.model.makeNetwork()
                while let checkpoint = queue.pop() {
                    let losses = evaluator.subjectLosses(parameters: checkpoint.parameters, network: network)
                    let done = results.values.withLock { values in
                        values[checkpoint.version] = losses
                        return values.count
                    }
                    progress?(done, total)
                }
            }
            thread.name = "sextant-audit-worker"
            thread.start()
        }
        do {
            let check: (Checkpoint) throws -> Void = { checkpoint in
                // An audit of a model nobody trained would be a false report: refuse it by name.
                guard checkpoint.isSound else {
                    throw AuditError(
                        .invalidFile,
                        "\(store.path): checkpoint \(run)@\(checkpoint.version) fails its SHA-256 check, so the audit would not be of the model that was trained; run `sextant checkpoints verify` to find every damaged checkpoint"
                    )
                }
                guard checkpoint.parameters.count == model.parameterCount else {
                    throw AuditError(
                        .invalidFile,
                        "checkpoint \(checkpoint.version) of run '\(run)' has \(checkpoint.parameters.count) parameters, the model \(model) has \(model.parameterCount)"
                    )
                }
            }
            if finalOnly {
                guard let latest = try store.latestCheckpoint(run: run) else {
                    throw AuditError(.noCheckpoints, "\(store.path): run '\(run)' has no checkpoints")
                }
                try check(latest)
                queue.push(latest)
            } else {
                try store.forEachCheckpoint(run: run) { checkpoint in
                    try check(checkpoint)
                    return queue.push(checkpoint)
                }
            }
            queue.close()
        } catch {
            queue.cancel()
            group.wait()
            throw error
        }
        group.wait()
        let columns = results.values.withLock { $0 }
        let versions = columns.keys.sorted()
        return LossTrajectories(
            versions: versions, subjects: subjects,
            losses: subjects.indices.map { s in versions.map { columns[$0]![s] } })
    }
}

/// Per-version results of the worker threads.
private final class ResultBox: Sendable {
    let values = Mutex<[Int: [Double]]>([:])
}
