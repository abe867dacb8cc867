import Foundation
import SextantML
import SextantScheduling
import SextantStore
import SextantWire

extension FederationServer {
    /// Carries out the scheduler's decisions in order.
    func perform(_ actions: [SchedulerAction]) async {
        var assigned: [ClientID: Int] = [:]
        defer { logArrivalGroups(assigned) }
        for action in actions {
            switch action {
            case .assign(let client, let steps):
                // After the last aggregation clients get a goodbye, not more work.
                guard finalStatus == nil, let target = clients[client] else { continue }
                assigned[client] = steps
                clients[client]?.assignedSteps = steps
                let assignment = AssignmentMessage(
                    runID: runID, modelVersion: UInt64(version), localSteps: UInt32(clamping: steps),
                    learningRate: Float(configuration.training.learningRate),
                    batchSize: UInt32(clamping: configuration.training.batchSize),
                    clipNorm: Float(privacy?.currentClipNorm ?? 0), noiseMultiplier: Float(privacy?.clientNoiseMultiplier ?? 0),
                    model: FloatPayload(model))
                send(.assignment(assignment), to: target.routingID)
            case .wait(let client):
                guard finalStatus == nil, let target = clients[client] else { continue }
                send(.heartbeat(HeartbeatMessage(modelVersion: UInt64(version), state: .idle)), to: target.routingID)
            case .accumulate(let id, let bucket, let weight):
                guard let delta = pendingDeltas.removeValue(forKey: id) else {
                    logger.error("scheduler accumulated an unknown update", metadata: ["update": "\(id)"])
                    continue
                }
                delta.withUnsafeBufferPointer { accumulator.accumulate($0, weight: weight, into: bucket) }
                privacyLedger.accumulated(updateID: id, bucket: bucket, weight: weight)
            case .discard(let id, let reason):
                pendingDeltas[id] = nil
                privacyLedger.discarded(updateID: id)
                logger.info("discarded update", metadata: ["update": "\(id)", "reason": "\(reason)"])
                do { try store.discardUpdates(run: runID, ids: [id]) } catch {
                    logger.error("could not mark update discarded: \(error)")
                }
            case .aggregate(let aggregation):
                aggregate(aggregation)
            case .setTimer(let id, let at):
                timers[id]?.cancel()
                let delay = max(0, at - now)
                timers[id] = Task { [weak self] in
                    try? await Task.sleep(for: .seconds(delay))
                    guard !Task.isCancelled else { return }
                    await self?.timerFired(id)
                }
            case .cancelTimer(let id):
                timers.removeValue(forKey: id)?.cancel()
            }
        }
    }

    /// Compass forms arrival groups: say which clients were just given how many steps so
    /// that they finish together.
    private func logArrivalGroups(_ assigned: [ClientID: Int]) {
        guard !assigned.isEmpty, let compass = scheduler as? CompassScheduler else { return }
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

    /// What a restarted server needs besides the model: the scheduler and any server momentum.
    func schedulerState() throws -> [String: Data] {
        var state = ["scheduler": try scheduler.snapshot()]
        if let privacy {
            state[Self.privacyKey] = try JSONEncoder().encode(privacy)
        }
        if !optimizer.velocity.isEmpty {
            state[Self.velocityKey] = optimizer.velocity.withUnsafeBufferPointer { Data(buffer: $0) }
        }
        return state
    }

    func timerFired(_ id: TimerID) async {
        timers[id] = nil
        await perform(scheduler.handle(.timerFired(id), now: now))
    }

    /// Applies the buckets to the model, evaluates it and commits the checkpoint in one transaction.
    private func aggregate(_ planned: Aggregation) {
        let clock = ContinuousClock()
        let start = clock.now
        var aggregation = planned
        var privacyMetrics: [String: Double] = [:]
        if var dp = privacy {
            do {
                let (noised, outcome) = try dp.privatize(planned, ledger: &privacyLedger, accumulator: &accumulator)
                aggregation = noised
                privacy = dp
                lastEpsilon = outcome.epsilon
                privacyMetrics = [
                    "epsilon": outcome.epsilon, "clip_norm": outcome.previousClipNorm,
                    "clipped": Double(outcome.clippedUpdates), "noise_std": outcome.noiseStandardDeviation,
                ]
                if let server = outcome.serverObserverEpsilon { privacyMetrics["server_observer_epsilon"] = server }
            } catch {
                logger.critical("differential privacy failed at version \(planned.newVersion): \(error); stopping")
                finish(.failed)
                return
            }
        }
        if let recordEpsilon = recordLevel?.epsilon() {
            privacyMetrics["record_epsilon"] = recordEpsilon
            // The checkpoint's epsilon is the client-level one when there is one.
            if privacy == nil { lastEpsilon = recordEpsilon }
        }
        model.withUnsafeMutableBufferPointer { optimizer.apply(aggregation, accumulator: &accumulator, to: $0) }
        network.loadParameters(model)
        let evaluation = network.evaluate(on: testSet)
        lastAccuracy = evaluation.accuracy
        let metrics = [
            "accuracy": evaluation.accuracy, "loss": evaluation.loss, "updates": Double(aggregation.updates.count),
            "seconds": now,
        ].merging(privacyMetrics) { first, _ in first }
        do {
            try store.commitAggregation(
                run: runID, version: aggregation.newVersion, parameters: model, metrics: metrics, epsilon: lastEpsilon,
                appliedUpdates: aggregation.updates.map { SextantStore.AppliedUpdate(id: $0.id, staleness: $0.staleness) },
                schedulerState: schedulerState())
        } catch {
            stopOnStorageFailure(while: "commit version \(aggregation.newVersion)", error, committed: aggregation.newVersion - 1)
            return
        }
        let retention = configuration.server
        if retention.keepEvery > 1 {
            do {
                try store.prune(run: runID, keepEvery: retention.keepEvery, keepLast: retention.keepLast)
            } catch {
                logger.error("could not prune old checkpoints: \(error)")
            }
        }
        let staleness = aggregation.updates.map(\.staleness)
        self.metrics.aggregated(
            version: aggregation.newVersion, staleness: staleness, duration: clock.now - start, accuracy: evaluation.accuracy,
            epsilon: lastEpsilon)
        logger.info(
            "aggregated",
            metadata: [
                "version": "\(aggregation.newVersion)", "accuracy": "\(String(format: "%.4f", evaluation.accuracy))",
                "loss": "\(String(format: "%.4f", evaluation.loss))", "updates": "\(aggregation.updates.count)",
                "staleness": "\(staleness.max() ?? 0)",
                "epsilon": "\(lastEpsilon.map { String(format: "%.3f", $0) } ?? "none")",
                "ms": "\(Int(((clock.now - start) / .milliseconds(1)).rounded()))",
            ])
        checkStoppingRule()
    }
}
