import Foundation
import Logging
import SextantStore
import SextantWire

extension FederationServer {
    /// A stored update, by client and the client's sequence number.
    struct UpdateKey: Hashable {
        var client: String
        var sequence: Int
    }

    /// An aggregation whose checkpoint the writer has not yet reported durable: what to
    /// log and publish once it is.
    struct PendingCommit {
        var ticket: UInt64
        var version: Int
        var staleness: [Int]
        var started: ContinuousClock.Instant
        /// The test set's evaluation, in by the time the commit is durable (the commit waits for it).
        var evaluation: ServerEvaluator.Pending?
        var epsilon: Double?
    }

    /// Hands `job` to the writer; messages sent from now on wait until it is durable.
    @discardableResult
    func submit(_ job: DurableWriter.Job) -> UInt64 {
        lastTicket = writer.submit(job)
        return lastTicket
    }

    /// Waits until everything handed to the writer is durable (for the rare write made
    /// here, the run's status, a goodbye), then follows the writer's report.
    func flushWrites() {
        writesReported(writer.drain())
    }

    /// Whether an update from `client` with `sequence` is stored or handed to the writer:
    /// a retry of it is acknowledged again, not stored twice (docs/design.md 10).
    func isStored(client: String, sequence: Int) -> Bool {
        if unsyncedUpdates[UpdateKey(client: client, sequence: sequence)] != nil { return true }
        return (try? store.storedUpdateID(run: runID, client: client, sequence: sequence)) != nil
    }

    /// The writer got as far as `report` says (the messages held for those writes have left
    /// already, released by its thread): each durable checkpoint is logged. A failed
    /// critical write stops the run: nothing that waits for it or for a later write is sent,
    /// so nothing unsaved is acknowledged.
    func writesReported(_ report: DurableWriter.Report) {
        sender.durable(through: report.durableThrough)
        if !unsyncedUpdates.isEmpty {
            unsyncedUpdates = unsyncedUpdates.filter { $0.value > report.durableThrough }
        }
        while let commit = pendingCommits.first, commit.ticket <= report.durableThrough {
            pendingCommits.removeFirst()
            committed(commit)
        }
        guard let failure = report.failure, !hasWriteFailed else { return }
        hasWriteFailed = true
        sender.dropHeld()
        stopOnStorageFailure(while: failure.action, failure.error, committed: durableVersion)
    }

    /// A checkpoint is durable: publishes it and logs the aggregation, with the time from
    /// the aggregation to the durable commit (evaluation included). Its evaluation is in:
    /// the writer waited for it before committing.
    private func committed(_ commit: PendingCommit) {
        durableVersion = commit.version
        let duration = ContinuousClock.now - commit.started
        let evaluation = commit.evaluation?.wait()
        if let evaluation { lastAccuracy = evaluation.accuracy }
        metrics.aggregated(
            version: commit.version, staleness: commit.staleness, duration: duration,
            accuracy: evaluation?.accuracy, epsilon: commit.epsilon)
        var line: Logger.Metadata = [
            "version": "\(commit.version)", "updates": "\(commit.staleness.count)",
            "staleness": "\(commit.staleness.max() ?? 0)",
            "epsilon": "\(commit.epsilon.map { String(format: "%.3f", $0) } ?? "none")",
            "guarantee": "\(configuration.privacy.guaranteeDescription(configuration) ?? "none")",
            "ms": "\(Int((duration / .milliseconds(1)).rounded()))",
        ]
        if let evaluation {
            line["accuracy"] = "\(String(format: "%.4f", evaluation.accuracy))"
            line["loss"] = "\(String(format: "%.4f", evaluation.loss))"
        }
        logger.info("aggregated", metadata: line)
    }
}
