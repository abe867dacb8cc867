import Foundation
import Logging
import SextantAggregation
import SextantRuntime
import SextantScheduling
import SextantSecureAggregation
import SextantStore
import SextantWire

/// Secure aggregation on the server (docs/design.md 13): a round's members form a cohort
/// when they are assigned, run the key rounds while they train, and send masked inputs; the
/// server stores each masked input before acknowledging it, unmasks only the cohort's sum,
/// and hands that to the aggregation core as the members' weighted sum.
extension FederationServer {
    // MARK: - Opening

    /// The clients just assigned form a cohort when there are at least 3 of them with a
    /// weight fixed at assignment. An open cohort sharing a member with the new one is
    /// abandoned: its members train afresh, with fresh masks. A client re-assigned alone (it
    /// rejoined, or the server restarted) leaves its open cohort, whose keys it lost, and
    /// waits with the others re-assigned to the same round: `stage_timeout_seconds` after the
    /// first of them, those gathered form one cohort.
    func openCohort(for assigned: [ClientID: Int]) {
        guard let state = secureCohorts, !assigned.isEmpty, !core.formsCohortsAtAggregation else { return }
        let members = assigned.keys.sorted().filter { core.scheduler.contributionWeight(of: $0) != nil }
        for (id, cohort) in state.open where members.contains(where: { cohort.members[$0] != nil }) {
            if members.count >= 3 {
                abandonCohort(id, because: "its members were given new tasks")
            } else {
                for member in members where cohort.members[member] != nil { memberLeft(member, cohort: id) }
            }
        }
        if members.count >= 3 {
            secureCohorts?.gathering = nil
            return startCohort(members)
        }
        guard !members.isEmpty else { return }
        if secureCohorts?.gathering?.version != version {
            secureCohorts?.gathering = (version, [])
            let timeout = state.section.stageTimeout
            let round = version
            timers[SecureCohorts.gatheringTimer]?.cancel()
            timers[SecureCohorts.gatheringTimer] = Task { [weak self] in
                try? await Task.sleep(for: .seconds(timeout))
                guard !Task.isCancelled else { return }
                await self?.gatheringEnded(version: round)
            }
        }
        secureCohorts?.gathering?.members.formUnion(members)
    }

    /// The members re-assigned one by one to the round of `version` form one cohort, if
    /// the round is still on and they are enough.
    func gatheringEnded(version round: Int) {
        timers[SecureCohorts.gatheringTimer] = nil
        guard let gathering = secureCohorts?.gathering, gathering.version == round else { return }
        secureCohorts?.gathering = nil
        let members = gathering.members.sorted().filter {
            clients[$0] != nil && core.task(of: $0)?.version == round
                && core.scheduler.contributionWeight(of: $0) != nil
        }
        guard round == version, members.count >= 3 else {
            logger.warning(
                "too few members for a secure aggregation cohort: their updates cannot be sent",
                metadata: ["members": "\(members.joined(separator: ","))", "needed": "3"])
            return
        }
        startCohort(members)
    }

    /// Opens a cohort of `members` (at least 3) on the current version and invites them.
    private func startCohort(_ members: [ClientID]) {
        let weights = Dictionary(uniqueKeysWithValues: members.map { ($0, core.scheduler.contributionWeight(of: $0)!) })
        if !startCohort(members, version: version, weights: weights, announced: nil) {
            logger.error("could not open a secure aggregation cohort")
        }
    }

    /// Opens a cohort of `members` (at least 3), invites them and arms its first stage's
    /// deadline; false if it could not open (a configuration the quantiser or the protocol
    /// refuses). `version`: the round's, or for a cohort formed at aggregation (`announced`
    /// given) the version its sum becomes, each member's task then being its announced update's.
    func startCohort(
        _ members: [ClientID], version: Int, weights: [ClientID: Double],
        announced: [ClientID: SecureCohort.Announcement]?
    ) -> Bool {
        guard var state = secureCohorts else { return false }
        let section = state.section
        let id = state.nextID(version: version)
        let threshold = section.threshold(cohort: members.count)
        let maxMembers = max(configuration.clients.count, members.count)
        let ids = Dictionary(uniqueKeysWithValues: members.enumerated().map { ($1, UInt32($0 + 1)) })
        let machine: SecureAggregationServer
        let quantizer: RingQuantizer
        let noise: DiscreteGaussianSampler?
        do {
            quantizer = try section.quantizer(members: maxMembers, dimension: network.parameterCount)
            noise = try section.sampler(for: quantizer)
            machine = try SecureAggregationServer(
                configuration: .init(
                    cohort: id, members: members.map { ids[$0]! }, threshold: threshold, bits: section.bits,
                    dimension: network.parameterCount, graph: section.communicationGraph(seed: id)))
        } catch {
            logger.error("could not open a secure aggregation cohort: \(error)")
            return false
        }
        var cohort = SecureCohort(
            id: id, version: version, members: ids, clients: Dictionary(uniqueKeysWithValues: ids.map { ($1, $0) }),
            weights: weights, quantizer: quantizer, noise: noise, machine: machine)
        cohort.announced = announced
        // Members that trained already: masking's deadline runs from its start.
        cohort.maskingDeadlineArmed = announced != nil
        cohort.opened = now
        state.open[id] = cohort
        secureCohorts = state
        logger.info(
            "secure aggregation cohort opened",
            metadata: [
                "cohort": "\(id)", "version": "\(version)", "members": "\(members.joined(separator: ","))",
                "threshold": "\(threshold)",
            ])
        for member in members {
            guard let target = clients[member] else { continue }
            let invitation = CohortMessage.Invitation(
                member: ids[member]!, members: UInt32(members.count), threshold: UInt32(threshold),
                bits: UInt8(section.bits), clipNorm: section.clipNorm ?? 1, maxMembers: UInt32(maxMembers),
                weight: weights[member]!, baseVersion: announced?[member]?.report.baseVersion ?? UInt64(version),
                noiseMultiplier: section.noiseMultiplier ?? 0)
            send(
                .cohort(CohortMessage(runID: runID, cohort: id, content: .invitation(invitation))), to: target.routingID
            )
        }
        armCohortStageDeadline(id)
        return true
    }

    // MARK: - Messages

    /// A member's protocol message: who sent it and when are checked here, its contents by
    /// the protocol's state machine; a refusal is one line and changes nothing.
    func handleCohort(_ message: CohortMessage, client: String, routingID: [UInt8], peer: String) {
        guard clients[client] != nil else {
            return reject(.notJoined, "join before taking part in secure aggregation", to: routingID, peer: peer)
        }
        clients[client]?.lastSeen = now
        guard secureCohorts != nil else {
            return reject(.rejected, "this run does not use secure aggregation", to: routingID, peer: peer)
        }
        guard message.runID == runID else {
            return reject(
                .unsolicited, "cohort message of run '\(message.runID)', this server runs '\(runID)'", to: routingID,
                peer: peer)
        }
        if case .ready(let report) = message.content {
            return handleReady(report, client: client, routingID: routingID, peer: peer)
        }
        guard case .step(let body, let report) = message.content else {
            return reject(.malformed, "a cohort invitation is a server-to-client message", to: routingID, peer: peer)
        }
        guard var cohort = secureCohorts?.open[message.cohort] else {
            return reject(
                .unsolicited, "cohort \(message.cohort) is not open (it finished or was abandoned)", to: routingID,
                peer: peer)
        }
        let step: SecureAggregationMessage
        switch cohort.check(body, from: client) {
        case .success(let decoded): step = decoded
        case .failure(let refusal):
            return reject(refusal.code, refusal.text, to: routingID, peer: peer)
        }
        var info: UpdateInfo?
        if case .maskedInput = step, let report, let announcement = cohort.announced?[client] {
            // A cohort formed at aggregation: the input answers the update its member announced.
            if let refusal = refusalOfMaskedInput(report, in: cohort, from: client) {
                return reject(.unsolicited, refusal, to: routingID, peer: peer)
            }
            info = UpdateInfo(
                id: announcement.updateID, client: client, baseVersion: Int(clamping: report.baseVersion),
                steps: Int(report.stepsDone), samples: Int(clamping: report.sampleCount))
        } else if case .maskedInput = step {
            guard let report, report.baseVersion == UInt64(cohort.version) else {
                return reject(
                    .malformed, "a masked input must report its update, trained on version \(cohort.version)",
                    to: routingID, peer: peer)
            }
            let claimedUpdate = UpdateInfo(
                id: 0, client: client, baseVersion: cohort.version, steps: Int(report.stepsDone),
                samples: Int(clamping: report.sampleCount))
            if let refusal = core.refusal(of: claimedUpdate) {
                return reject(.unsolicited, refusal.message, to: routingID, peer: peer)
            }
            info = claimedUpdate
        } else if report != nil {
            return reject(.malformed, "only a masked input reports an update", to: routingID, peer: peer)
        }
        do {
            try cohort.machine.receive(step)
        } catch {
            return reject(.unsolicited, error.message, to: routingID, peer: peer)
        }
        cohort.answered.insert(client)
        if case .maskedInput(let input) = step, let report, let info {
            cohort.stored[client] = .init(
                updateID: storeMaskedInput(input, report: report, info: info, routingID: routingID), report: report)
        }
        secureCohorts?.open[cohort.id] = cohort
        if case .maskedInput = step, !cohort.maskingDeadlineArmed {
            secureCohorts?.open[cohort.id]?.maskingDeadlineArmed = true
            armCohortStageDeadline(cohort.id)
        }
        if cohort.stageComplete { closeStage(cohort.id) }
    }

    /// Stores the masked input as an update whose values are the ring's (4 bytes each, as
    /// Float32 bit patterns), through the same writer as a delta; the ack leaves once it is
    /// durable. Returns the row's id: `info`'s when it was given one at announcement.
    private func storeMaskedInput(
        _ input: SecureAggregationMessage.MaskedInput, report: CohortMessage.Report, info: UpdateInfo,
        routingID: [UInt8]
    ) -> Int64 {
        let submission = UpdateSubmission(
            run: runID, client: info.client, sequence: Int(truncatingIfNeeded: report.updateID),
            baseVersion: info.baseVersion, steps: info.steps, computeSeconds: report.computeSeconds,
            samples: info.samples, delta: nil)
        let id: Int64
        if info.id > 0 {
            id = info.id
        } else {
            id = nextUpdateID
            nextUpdateID += 1
        }
        let ring = FloatPayload(input.values.map { Float(bitPattern: $0) })
        let ticket = submit(.update(id: id, submission: submission, delta: ring))
        unsyncedUpdates[UpdateKey(client: info.client, sequence: submission.sequence)] = ticket
        send(.ack(AckMessage(updateID: report.updateID, acceptedVersion: UInt64(version))), to: routingID)
        metrics.updateReceived()
        recordLevel?.record(client: info.client, steps: info.steps, samples: info.samples)
        return id
    }

    // MARK: - Stages

    /// Ends the cohort's current stage: sends the next stage's messages, or unmasks the sum
    /// and hands it to the core. A stage that cannot end (too few left) abandons the cohort.
    func closeStage(_ id: UInt64) {
        guard var cohort = secureCohorts?.open[id] else { return }
        do {
            var outgoing: [(UInt32, SecureAggregationMessage)] = []
            switch cohort.machine.stage {
            case .advertising:
                outgoing = try cohort.machine.closeAdvertising().map { ($0.recipient, .keyRoster($0)) }
            case .sharing:
                outgoing = try cohort.machine.closeSharing().map { ($0.recipient, .shareDelivery($0)) }
            case .masking:
                outgoing = try cohort.machine.closeMasking().map { ($0.recipient, .unmaskRequest($0)) }
            case .unmasking:
                let result = try cohort.machine.finish()
                secureCohorts?.open[id] = cohort
                return complete(id, result: result)
            case .finished:
                return
            }
            cohort.answered = []
            cohort.stageGeneration += 1
            secureCohorts?.open[id] = cohort
            for (member, message) in outgoing {
                guard let client = cohort.clients[member], let target = clients[client] else { continue }
                send(
                    .cohort(
                        CohortMessage(runID: runID, cohort: id, content: .step(body: message.encoded(), report: nil))),
                    to: target.routingID)
            }
            // Masking waits for training: its deadline starts at the first masked input.
            if cohort.machine.stage != .masking || cohort.maskingDeadlineArmed {
                armCohortStageDeadline(id)
            } else {
                timers.removeValue(forKey: cohort.timerID)?.cancel()
            }
            // Everyone the new stage waits for has left already: end it at once.
            if cohort.stageComplete { closeStage(id) }
        } catch {
            abandonCohort(id, because: error.message)
        }
    }

    /// The cohort's sum, decoded, goes to the core as its survivors' weighted sum.
    private func complete(_ id: UInt64, result: SecureAggregationServer.Result) {
        guard let cohort = secureCohorts?.open.removeValue(forKey: id) else { return }
        timers.removeValue(forKey: cohort.timerID)?.cancel()
        let sum: [Float]
        do {
            sum = try cohort.quantizer.decode(sum: result.sum).map { Float($0) }
        } catch {
            return forget(cohort, because: error.message)
        }
        var weighted: [(update: UpdateInfo, weight: Double)] = []
        for member in result.members {
            guard let client = cohort.clients[member], let input = cohort.stored[client] else {
                return forget(cohort, because: "member \(member)'s masked input is not stored")
            }
            let update = UpdateInfo(
                id: input.updateID, client: client, baseVersion: Int(clamping: input.report.baseVersion),
                steps: Int(input.report.stepsDone), samples: Int(clamping: input.report.sampleCount))
            if cohort.announced == nil, let refusal = core.refusal(of: update) {
                return forget(cohort, because: refusal.message)
            }
            weighted.append((update, cohort.weights[client] ?? 0))
        }
        let dropped = cohort.members.count - weighted.count
        if let noise = cohort.noise {
            // The survivors' noise is what the sum carries: charged before it is applied.
            secureCohorts?.charge(.init(quantizer: cohort.quantizer, sampler: noise, members: weighted.count))
        }
        secureCohorts?.completed += 1
        secureCohorts?.droppedMembers += dropped
        metrics.cohortEnded(completed: true, dropped: dropped)
        logger.info(
            "secure aggregation cohort unmasked",
            metadata: [
                "cohort": "\(id)", "version": "\(cohort.version)", "survivors": "\(weighted.count)",
                "dropped": "\(dropped)",
                "error_bound": "\(String(format: "%.2e", cohort.quantizer.sumErrorBound(members: weighted.count)))",
                "seconds": "\(String(format: "%.3f", now - cohort.opened))",
            ])
        if cohort.announced != nil {
            // Formed at aggregation: the sum is the aggregation's whole step.
            let survivors = Set(weighted.map(\.update.id))
            return endGroupCohort(version: cohort.version, sum: sum, survivors: survivors)
        }
        perform { try core.cohortArrived(weighted, sum: sum, now: now) }
    }

    /// Abandons an open cohort: nothing of it is unmasked, its stored masked inputs are
    /// discarded, and its members get fresh tasks (fresh masks) in a later round.
    func abandonCohort(_ id: UInt64, because reason: String) {
        guard let cohort = secureCohorts?.open.removeValue(forKey: id) else { return }
        forget(cohort, because: reason)
    }

    private func forget(_ cohort: SecureCohort, because reason: String) {
        timers.removeValue(forKey: cohort.timerID)?.cancel()
        secureCohorts?.abandoned += 1
        metrics.cohortEnded(completed: false)
        logger.warning(
            "secure aggregation cohort abandoned: nothing unmasked, its masked inputs discarded",
            metadata: [
                "cohort": "\(cohort.id)", "version": "\(cohort.version)", "reason": "\(reason)",
                "model": "\(cohort.announced == nil ? "members train again" : "unchanged at this version")",
            ])
        let ids = cohort.stored.values.map(\.updateID)
        if !ids.isEmpty {
            submit(
                .write(action: "discard the masked inputs of cohort \(cohort.id)", isCritical: false) { [runID] in
                    try $0.discardUpdates(run: runID, ids: ids)
                })
        }
        if cohort.announced != nil {
            // Formed at aggregation: the version advances with the model unchanged.
            endGroupCohort(version: cohort.version, sum: nil)
        }
    }

    /// A member left the federation (or lost its keys): the stage stops waiting for it.
    func memberLeft(_ client: ClientID, cohort id: UInt64) {
        guard var cohort = secureCohorts?.open[id], cohort.members[client] != nil else { return }
        cohort.gone.insert(client)
        secureCohorts?.open[id] = cohort
        logger.notice(
            "secure aggregation member dropped from its cohort", metadata: ["client": "\(client)", "cohort": "\(id)"])
        if cohort.stageComplete { closeStage(id) }
    }

    /// Called when a client leaves: every open cohort it is in stops waiting for it.
    func cohortMemberLost(_ client: ClientID) {
        guard let open = secureCohorts?.open else { return }
        for (id, cohort) in open where cohort.members[client] != nil { memberLeft(client, cohort: id) }
    }

    func armCohortStageDeadline(_ id: UInt64) {
        guard let cohort = secureCohorts?.open[id], let timeout = secureCohorts?.section.stageTimeout else { return }
        let generation = cohort.stageGeneration
        timers[cohort.timerID]?.cancel()
        timers[cohort.timerID] = Task { [weak self] in
            try? await Task.sleep(for: .seconds(timeout))
            guard !Task.isCancelled else { return }
            await self?.stageDeadlinePassed(id, generation: generation)
        }
    }

    /// A stage's deadline: who has not answered has dropped. A deadline of an earlier stage
    /// (its generation passed) changes nothing.
    func stageDeadlinePassed(_ id: UInt64, generation: UInt64) {
        guard let cohort = secureCohorts?.open[id], cohort.stageGeneration == generation else { return }
        let late = cohort.machine.survivors.compactMap { cohort.clients[$0] }.filter {
            !cohort.answered.contains($0) && !cohort.gone.contains($0)
        }
        if !late.isEmpty {
            logger.notice(
                "secure aggregation stage timed out: members that did not answer have dropped",
                metadata: [
                    "cohort": "\(id)", "stage": "\(cohort.machine.stage)", "dropped": "\(late.joined(separator: ","))",
                ])
        }
        closeStage(id)
    }

    // MARK: - Restart

    /// After a restart no cohort's protocol state survives: the masked inputs acknowledged
    /// before it are discarded (never unmasked, so no two subsets of them are ever unmasked),
    /// and their members are tasked afresh by the scheduler.
    func discardInterruptedMaskedInputs() throws {
        let pending = try store.pendingUpdates(run: runID)
        guard !pending.isEmpty else { return }
        try store.discardUpdates(run: runID, ids: pending.map(\.id))
        logger.notice(
            "secure aggregation: masked inputs of cohorts interrupted by the restart discarded; their members train again",
            metadata: ["count": "\(pending.count)"])
    }
}
