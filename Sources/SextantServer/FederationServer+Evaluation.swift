import Foundation
import SextantML
import SextantRuntime
import SextantWire

/// One version's federated evaluation while the sites' summaries come in.
struct FederatedEvaluationRound {
    /// Sites asked that have not answered (and are still joined).
    var waitingFor: Set<String>
    var sites = 0
    var records = 0
    var lossSum = 0.0
    var summary: MetricSummary?
}

extension FederationServer {
    /// At most this many versions' evaluations wait for answers; an older one is closed
    /// with what it has, so a site that never answers cannot make the server hold memory.
    static let openEvaluationLimit = 8

    /// After version `version` is committed: asks every joined site to evaluate `model` on
    /// its validation split (every `evaluation.every`-th version). The requests leave at the
    /// end of the event (``sendEvaluationRequests(sentModel:)``), after its assignments.
    func requestEvaluation(version: Int, model: [Float]) {
        let settings = configuration.evaluation
        guard configuration.isFederatedEvaluationOn, version % settings.every == 0, finalStatus == nil, !clients.isEmpty
        else { return }
        evaluations[version] = FederatedEvaluationRound(waitingFor: Set(clients.keys))
        evaluationRequests.append(
            EvaluateMessage(runID: runID, modelVersion: UInt64(version), model: FloatPayload(model)))
        while evaluations.count > Self.openEvaluationLimit, let oldest = evaluations.keys.min() {
            closeEvaluation(of: oldest, complete: false)
        }
    }

    /// Sends the evaluations requested in this event, if the run goes on: without the model
    /// to each site that was just sent it with its assignment (`sentModel`: the version each
    /// client's assignment of this event carried), with it to the others.
    func sendEvaluationRequests(sentModel: [String: Int]) {
        let requests = evaluationRequests
        evaluationRequests = []
        guard finalStatus == nil else { return }
        for request in requests {
            let version = Int(clamping: request.modelVersion)
            var byReference = request
            byReference.model = FloatPayload([])
            for (name, client) in clients where evaluations[version]?.waitingFor.contains(name) == true {
                send(.evaluate(sentModel[name] == version ? byReference : request), to: client.routingID)
            }
        }
    }

    /// Seconds the last version waits for its federated evaluation before the run completes
    /// without it (a site may be gone without a word).
    static let finalEvaluationTimeout = 30.0

    /// The run reached its last version while sites evaluate it: finish when their answers
    /// are in (``closeEvaluation(of:complete:)``) or after ``finalEvaluationTimeout``.
    func awaitFinalEvaluation() {
        guard !awaitingFinalEvaluation else { return }
        awaitingFinalEvaluation = true
        let last = version
        timers["final-evaluation"] = Task { [weak self] in
            try? await Task.sleep(for: .seconds(Self.finalEvaluationTimeout))
            guard !Task.isCancelled else { return }
            await self?.closeEvaluation(of: last, complete: false)
        }
    }

    /// A site's summary: a claim checked against what was asked, the task and the site's
    /// bounded sample count before it is merged.
    func handleEvaluation(_ message: EvaluationMessage, client name: String, routingID: [UInt8], peer: String) {
        let version = Int(clamping: message.modelVersion)
        guard var round = evaluations[version], round.waitingFor.contains(name) else {
            return reject(
                .unsolicited, "no evaluation of version \(version) is waiting for this client", to: routingID,
                peer: peer)
        }
        round.waitingFor.remove(name)
        let bound = configuration.scheduler.maxSamplesPerClient
        if message.records > 0 {
            let summary: MetricSummary
            do {
                guard message.records <= UInt64(bound) else {
                    throw MetricSummaryError("\(message.records) records is more than \(bound)")
                }
                summary = try JSONDecoder().decode(MetricSummary.self, from: Data(message.summary))
                try summary.validate(for: network.task, records: Int(message.records), maxRecords: bound)
            } catch {
                evaluations[version] = round
                reject(.malformed, "evaluation of version \(version) refused: \(error)", to: routingID, peer: peer)
                return finishEvaluationIfAnswered(version)
            }
            round.sites += 1
            round.records += Int(message.records)
            round.lossSum += message.lossSum
            if round.summary == nil { round.summary = summary } else { round.summary!.merge(summary) }
        }
        evaluations[version] = round
        finishEvaluationIfAnswered(version)
    }

    /// A site left: the evaluations waiting for it stop waiting.
    func stopWaitingForEvaluations(of name: String) {
        for version in evaluations.keys.sorted() where evaluations[version]?.waitingFor.remove(name) != nil {
            finishEvaluationIfAnswered(version)
        }
    }

    private func finishEvaluationIfAnswered(_ version: Int) {
        guard let round = evaluations[version], round.waitingFor.isEmpty else { return }
        closeEvaluation(of: version, complete: true)
    }

    /// Logs, stores and publishes a version's merged evaluation; a complete one (every site
    /// asked answered or left) may stop the run on `stop.target_metric`.
    func closeEvaluation(of version: Int, complete: Bool) {
        defer {
            if awaitingFinalEvaluation, version >= self.version, finalStatus == nil {
                logger.notice("reached the last version", metadata: ["version": "\(self.version)"])
                finish(.completed)
            }
        }
        guard let round = evaluations.removeValue(forKey: version) else { return }
        guard let summary = round.summary, round.records > 0 else {
            logger.info("federated evaluation: no site reported records", metadata: ["version": "\(version)"])
            return
        }
        var values = summary.metrics
        values["loss"] = round.lossSum / Double(round.records)
        let result = ServerStatus.FederatedEvaluation(
            version: version, sites: round.sites, records: round.records, metrics: values)
        logger.info(
            "federated evaluation",
            metadata: [
                "version": "\(version)", "sites": "\(round.sites)", "records": "\(round.records)",
                "complete": "\(complete)", "metrics": "\(StatusText.describe(values))",
            ])
        var stored = Dictionary(uniqueKeysWithValues: values.map { ("federated_\($0.key)", $0.value) })
        stored["federated_sites"] = Double(round.sites)
        stored["federated_records"] = Double(round.records)
        submit(
            .write(action: "store the federated evaluation of version \(version)", isCritical: false) {
                [runID, stored] in try $0.addMetrics(run: runID, version: version, stored)
            })
        metrics.federatedEvaluation(values)
        if lastFederatedEvaluation.map({ $0.version <= version }) ?? true { lastFederatedEvaluation = result }
        let stop = configuration.stop
        if complete, finalStatus == nil, let name = stop.targetMetric, let value = values[name], stop.meetsTarget(value)
        {
            logger.notice(
                "reached the target metric",
                metadata: ["metric": "\(name)", "value": "\(String(format: "%.4f", value))", "version": "\(version)"])
            finish(.completed)
        }
    }
}
