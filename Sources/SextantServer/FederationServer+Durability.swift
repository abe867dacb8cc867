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
        /// The test set's evaluation when it commits with the checkpoint (awaited before or
        /// by the commit: ``EvaluationTiming``), in by the time the commit is durable.
        var committedWith: ServerEvaluator.Pending?
        /// Whether the evaluation is recorded after the commit, which then publishes nothing:
        /// the aggregation is logged and published with the evaluation's record.
        var publishedWithEvaluation: Bool
        var epsilon: Double?
    }

    /// A test-set evaluation running for `version`, recorded after the checkpoint's commit;
    /// `commit` is the aggregation to publish with it (nil for a resumed version).
    struct EvaluationInFlight {
        var pending: ServerEvaluator.Pending
        var commit: PendingCommit?
    }

    /// An evaluation's metrics handed to the writer for the checkpoint's row.
    struct PendingEvaluationRecord {
        var ticket: UInt64
        var version: Int
        var result: ServerEvaluator.Result
        var commit: PendingCommit?
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
        while let record = evaluationRecords.first, record.ticket <= report.durableThrough {
            evaluationRecords.removeFirst()
            evaluationRecorded(record)
        }
        guard let failure = report.failure, !hasWriteFailed else { return }
        hasWriteFailed = true
        sender.dropHeld()
        stopOnStorageFailure(while: failure.action, failure.error, committed: durableVersion)
    }

    /// The evaluator has the result for `version`: its metrics go to the writer for the
    /// checkpoint's row, after the checkpoint's own commit (handed over before).
    func evaluationFinished(version: Int) {
        guard let running = evaluationsInFlight.removeValue(forKey: version) else { return }
        let result = running.pending.wait()
        let ticket = submit(
            .write(action: "store the evaluation of version \(version)", isCritical: false) { [runID] store in
                try store.addMetrics(run: runID, version: version, ["accuracy": result.accuracy, "loss": result.loss])
            })
        evaluationRecords.append(
            PendingEvaluationRecord(ticket: ticket, version: version, result: result, commit: running.commit))
    }

    /// Hands `model` (version `version`) to the evaluator, which calls back into the actor
    /// when the result is in; nil without a test set.
    func startEvaluation(_ model: [Float], version: Int) -> ServerEvaluator.Pending? {
        evaluator?.evaluate(model) { [weak self] _ in
            Task { await self?.evaluationFinished(version: version) }
        }
    }

    /// Records every evaluation still running, in version order, waiting for each: before
    /// the run's end is written, so that every checkpoint has its accuracy.
    func recordEvaluationsInFlight() {
        for version in evaluationsInFlight.keys.sorted() {
            evaluationFinished(version: version)
        }
    }

    /// An evaluation's metrics are in the checkpoint's row: the aggregation that waited for
    /// them is published and logged now, or (a version committed before a restart) the
    /// evaluation alone.
    private func evaluationRecorded(_ record: PendingEvaluationRecord) {
        noteAccuracy(record.result.accuracy, version: record.version)
        if let commit = record.commit {
            publish(commit, evaluation: record.result)
        } else {
            logger.info(
                "evaluated the resumed version",
                metadata: [
                    "version": "\(record.version)", "accuracy": "\(String(format: "%.4f", record.result.accuracy))",
                    "loss": "\(String(format: "%.4f", record.result.loss))",
                ])
        }
    }

    /// A checkpoint is durable: the version is the server's durable one. Unless its
    /// evaluation is still to be recorded, the aggregation is published and logged now.
    private func committed(_ commit: PendingCommit) {
        durableVersion = commit.version
        guard !commit.publishedWithEvaluation else { return }
        let evaluated = commit.committedWith?.wait()
        if let evaluated { noteAccuracy(evaluated.accuracy, version: commit.version) }
        publish(commit, evaluation: evaluated)
    }

    /// The accuracy `/status` shows: that of the newest version evaluated (a record of an
    /// older version can follow a commit that waited for a newer one's).
    func noteAccuracy(_ accuracy: Double, version: Int) {
        guard version >= lastAccuracyVersion else { return }
        lastAccuracy = accuracy
        lastAccuracyVersion = version
    }

    /// Publishes an aggregation (metrics) and logs it, with the time from the aggregation to
    /// its durable commit, or to its evaluation's record when that came after.
    private func publish(_ commit: PendingCommit, evaluation: ServerEvaluator.Result?) {
        let duration = ContinuousClock.now - commit.started
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
