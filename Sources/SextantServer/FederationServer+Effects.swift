import Foundation
import Logging
import SextantAggregation
import SextantML
import SextantPrivacy
import SextantRuntime
import SextantScheduling
import SextantStore
import SextantWire

extension FederationServer {
    /// Runs one event through the aggregation core and carries out what it asks, in order.
    /// A core failure (client-level DP without secure randomness, say) stops the run.
    func perform(_ event: () throws -> [CoreEffect]) {
        let effects: [CoreEffect]
        do {
            effects = try event()
        } catch let error as CoreError where error.code == .budgetSpent {
            logger.notice("stopping the run at version \(version): \(error.message)")
            finish(.completed)
            return
        } catch {
            logger.critical("the aggregation core failed at version \(version): \(error); stopping")
            finish(.failed)
            return
        }
        var assigned: [ClientID: Int] = [:]
        // The model version each client is sent with its assignment in this event: a site
        // that holds the version to evaluate is asked without a copy of it.
        var sentModel: [ClientID: Int] = [:]
        var cohortRequests: [CohortRequest] = []
        defer { logArrivalGroups(assigned) }
        for effect in effects {
            switch effect {
            case .assign(let client, let steps):
                // After the last aggregation clients get a goodbye, not more work (also while
                // the last version's federated evaluation is awaited).
                guard finalStatus == nil, version < configuration.stop.maxVersions, let target = clients[client]
                else { continue }
                assigned[client] = steps
                clients[client]?.assignedSteps = steps
                let privacy = core.privacy
                let assignment = AssignmentMessage(
                    runID: runID, modelVersion: UInt64(version), localSteps: UInt32(clamping: steps),
                    learningRate: Float(configuration.training.learningRate),
                    batchSize: UInt32(clamping: configuration.training.batchSize),
                    clipNorm: Float(privacy?.currentClipNorm ?? 0),
                    noiseMultiplier: Float(privacy?.clientNoiseMultiplier ?? 0),
                    model: FloatPayload(core.model))
                send(.assignment(assignment), to: target.routingID)
                sentModel[client] = version
            case .wait(let client):
                guard finalStatus == nil, let target = clients[client] else { continue }
                send(.wait(WaitMessage(modelVersion: UInt64(version))), to: target.routingID)
            case .accumulated:
                continue
            case .discarded(let id, let reason):
                logger.info("discarded update", metadata: ["update": "\(id)", "reason": "\(reason)"])
                // An announced update (Compass under secure aggregation) has no row: its values
                // never left the member (docs/design.md 13).
                guard !core.formsCohortsAtAggregation else { continue }
                submit(
                    .write(action: "mark update \(id) discarded", isCritical: false) { [runID] in
                        try $0.discardUpdates(run: runID, ids: [id])
                    })
            case .aggregated(let outcome):
                checkpoint(outcome)
            case .setTimer(let timer, let at):
                timers[timer.id]?.cancel()
                let delay = max(0, at - now)
                timers[timer.id] = Task { [weak self] in
                    try? await Task.sleep(for: .seconds(delay))
                    guard !Task.isCancelled else { return }
                    await self?.timerFired(timer)
                }
            case .cancelTimer(let id):
                timers.removeValue(forKey: id)?.cancel()
            case .cohortNeeded(let request):
                cohortRequests.append(request)
            }
        }
        // An arrival group's members form a cohort when it closes (docs/design.md 13); after
        // this event's other effects, since a cohort that cannot open ends at once.
        for request in cohortRequests { openGroupCohort(request) }
        // After the assignments, so that a site sent the model with its assignment has it
        // when the request without it comes (docs/design.md 4).
        sendEvaluationRequests(sentModel: sentModel)
        // A round's members form a secure aggregation cohort (docs/design.md 13).
        if secureCohorts != nil { openCohort(for: assigned) }
    }

    /// Compass forms arrival groups: say which clients were just given how many steps so
    /// that they finish together.
    private func logArrivalGroups(_ assigned: [ClientID: Int]) {
        guard !assigned.isEmpty, let compass = core.scheduler as? CompassScheduler else { return }
        for group in compass.arrivalGroups where group.isOpen {
            let members = (group.pending + group.arrived).filter { assigned[$0] != nil }.sorted()
            guard !members.isEmpty else { continue }
            let listing = members.map { client in
                let speed = compass.estimatedSpeed(of: client).map { String(format: "%.3f", $0) } ?? "?"
                return "\(client):\(assigned[client]!)@\(speed)s"
            }
            logger.info(
                "arrival group",
                metadata: [
                    "group": "\(group.id)", "members": "\(listing.joined(separator: ","))",
                    "expected_in": "\(String(format: "%.2f", group.expectedArrival - now))",
                ])
        }
    }

    /// A timer's sleep ended. The core ignores a fire from an arming that was replaced or
    /// cancelled meanwhile, so a late task cannot restart or end a newer round.
    func timerFired(_ timer: ScheduledTimer) {
        perform { try core.timerFired(timer, now: now) }
    }

    /// When a new version's test-set evaluation is in, relative to its checkpoint's commit.
    enum EvaluationTiming: Equatable {
        /// Awaited by the actor before the commit: whether the run goes on depends on it
        /// (`stop.target_accuracy`); its metrics commit with the checkpoint.
        case beforeTheCommit
        /// Awaited by the commit on the writer's thread, as the next assignments then are:
        /// the evaluator is behind (aggregations come faster than it evaluates), and each
        /// queued evaluation holds a copy of the model, so the queue stays bounded.
        case withTheCommit
        /// Recorded in the checkpoint's row once in; nothing waits for it.
        case afterTheCommit
    }

    static func evaluationTiming(stopsAtAccuracy: Bool, inFlight: Int) -> EvaluationTiming {
        if stopsAtAccuracy { return .beforeTheCommit }
        return inFlight >= evaluationsAhead ? .withTheCommit : .afterTheCommit
    }

    /// Hands the core's new model to the evaluator, and the checkpoint, the applied updates
    /// and the core's state to the writer, to commit in one transaction at once: the next
    /// version's assignments wait for that commit, not for the evaluation, whose metrics go
    /// into the checkpoint's row when the evaluator has them (docs/design.md 3).
    private func checkpoint(_ outcome: AggregationOutcome) {
        let start = ContinuousClock.now
        let aggregation = outcome.aggregation
        var privacyMetrics: [String: Double] = [:]
        if let dp = outcome.privacy {
            lastEpsilon = dp.epsilon
            privacyMetrics = [
                "epsilon": dp.epsilon, "clip_norm": dp.previousClipNorm,
                "clipped": Double(dp.clippedUpdates), "noise_std": dp.noiseStandardDeviation,
            ]
            if let server = dp.serverObserverEpsilon { privacyMetrics["server_observer_epsilon"] = server }
        }
        if let recordEpsilon = recordLevel?.epsilon() {
            privacyMetrics[configuration.privacy.unit == .subject ? "subject_epsilon" : "record_epsilon"] =
                recordEpsilon
            // The checkpoint's epsilon is the client-level one when there is one.
            if core.privacy == nil { lastEpsilon = recordEpsilon }
        }
        // Distributed DP under secure aggregation (docs/design.md 13): the checkpoint's epsilon.
        if let secure = secureCohorts, let epsilon = secure.epsilon(delta: configuration.privacy.delta),
            let round = secure.lastRound
        {
            lastEpsilon = epsilon
            privacyMetrics["epsilon"] = epsilon
            privacyMetrics["distributed_sensitivity"] = round.sensitivity
            privacyMetrics["distributed_variance"] = round.variance
            privacyMetrics["distributed_members"] = Double(round.members)
        }
        // Evaluated on the evaluator's thread while this one takes the next events. Sites' own
        // data leaves the server without a test set: federated evaluation tells how the model
        // does (FederationServer+Evaluation).
        let version = aggregation.newVersion
        let evaluation = startEvaluation(outcome.model, version: version)
        let timing = Self.evaluationTiming(
            stopsAtAccuracy: configuration.stop.targetAccuracy > 0, inFlight: evaluationsInFlight.count)
        if let evaluation, timing == .beforeTheCommit {
            noteAccuracy(evaluation.wait().accuracy, version: version)
        }
        let committedWith = timing == .afterTheCommit ? nil : evaluation
        let metrics = ["updates": Double(aggregation.updates.count), "seconds": now]
            .merging(privacyMetrics) { first, _ in first }
        let state: [String: Data]
        do {
            var snapshot = try core.snapshot()
            if let account = try secureCohorts?.savedAccount() { snapshot[Self.distributedPrivacyKey] = account }
            state = snapshot
        } catch {
            stopOnStorageFailure(
                while: "save the state of version \(aggregation.newVersion)", error, committed: durableVersion)
            return
        }
        // Committed by the writer after the updates it applies, in one transaction; the
        // next version's assignments leave once it is durable (docs/design.md 3).
        let applied = aggregation.updates.map { SextantStore.AppliedUpdate(id: $0.id, staleness: $0.staleness) }
        let retention = configuration.server
        let ticket = submit(
            .write(action: "commit version \(aggregation.newVersion)", isCritical: true) {
                [runID, logger, metrics, model = outcome.model, epsilon = lastEpsilon, committedWith] store in
                try store.commitAggregation(
                    run: runID, version: version, parameters: model, metrics: metrics, epsilon: epsilon,
                    appliedUpdates: applied, schedulerState: state
                ) {
                    // Waits, once the model's file is written, unless recorded after the commit.
                    guard let result = committedWith?.wait() else { return [:] }
                    return ["accuracy": result.accuracy, "loss": result.loss]
                }
                guard retention.keepEvery > 1 else { return }
                do {
                    try store.prune(run: runID, keepEvery: retention.keepEvery, keepLast: retention.keepLast)
                } catch {
                    logger.error("could not prune old checkpoints: \(error)")
                }
            })
        let commit = PendingCommit(
            ticket: ticket, version: version, staleness: aggregation.updates.map(\.staleness),
            started: start, committedWith: committedWith,
            publishedWithEvaluation: evaluation != nil && committedWith == nil, epsilon: lastEpsilon)
        pendingCommits.append(commit)
        if let evaluation, committedWith == nil {
            evaluationsInFlight[version] = EvaluationInFlight(pending: evaluation, commit: commit)
        }
        requestEvaluation(version: version, model: outcome.model)
        checkStoppingRule()
    }
}
