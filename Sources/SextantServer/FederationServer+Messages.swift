import Foundation
import SextantAggregation
import SextantRuntime
import SextantScheduling
import SextantStore
import SextantWire

extension FederationServer {
    /// Handles one ROUTER message: the routing id, then the Sextant frames. Anything
    /// malformed is answered with an error and logged; nothing from the network can stop
    /// the server.
    func handle(_ frames: [ZMQFrame]) {
        metrics.received(bytes: frames.reduce(0) { $0 + $1.count })
        guard frames.count >= 2 else { return }
        let routingID = frames[0].bytes
        let peer = frames[1].peerAddress ?? "unknown peer"
        guard let name = admit(frames, routingID: routingID, peer: peer) else { return }
        let options = WireDecodingOptions(
            expectedPayloadCount: network.parameterCount, maxPayloadNorm: configuration.server.maxUpdateNorm)
        let message: WireMessage
        do {
            message = try WireCodec.decode(frames.dropFirst(), options: options)
        } catch {
            if error.code == .unsupportedVersion {
                return refuseVersion(
                    error, client: name, routingID: routingID, peer: peer, isUpdate: Self.declaresUpdate(frames))
            }
            logger.warning(
                "rejected message",
                metadata: ["peer": "\(peer)", "code": "\(error.code.rawValue)", "error": "\(error.message)"])
            send(.error(ErrorReplyMessage(error)), to: routingID)
            metrics.rejected(ErrorReplyMessage(error).code, isUpdate: Self.declaresUpdate(frames))
            return
        }
        if farewell != nil { return sayFarewell(to: name, routingID: routingID) }
        if isSolicited(message, from: name) { messageLimiter.refund(name) }
        switch message {
        case .join(let join):
            guard admitJoin(name, routingID: routingID, peer: peer) else { return }
            handleJoin(join, name: name, routingID: routingID, peer: peer)
        case .update(let update):
            guard clients[name] != nil else {
                return reject(.notJoined, "join before sending updates", to: routingID, peer: peer, isUpdate: true)
            }
            guard secureCohorts == nil else {
                return reject(
                    .rejected, "this run uses secure aggregation: updates travel masked, in cohort messages",
                    to: routingID, peer: peer, isUpdate: true)
            }
            // The last version exists and waits for its evaluation: no update is stored or
            // acknowledged any more; the client hears goodbye when the run completes.
            guard !awaitingFinalEvaluation else { return }
            clients[name]?.lastSeen = now
            handleUpdate(update, client: name, routingID: routingID, peer: peer)
        case .heartbeat, .uploadRequest:
            guard clients[name] != nil else {
                return reject(.notJoined, "unknown client: join first", to: routingID, peer: peer)
            }
            clients[name]?.lastSeen = now
            if case .uploadRequest = message { requestUploadSlot(for: name) }
        case .cohort(let cohort):
            handleCohort(cohort, client: name, routingID: routingID, peer: peer)
        case .statistics(let statistics):
            answerStatistics(statistics, client: name, routingID: routingID, peer: peer)
        case .evaluation(let evaluation):
            guard clients[name] != nil else {
                return reject(.notJoined, "unknown client: join first", to: routingID, peer: peer)
            }
            clients[name]?.lastSeen = now
            handleEvaluation(evaluation, client: name, routingID: routingID, peer: peer)
        case .bye(let bye):
            guard dropClient(name) != nil else { break }
            if bye.reason == .privacyBudgetSpent {
                // Dropped from scheduling: the run goes on with the others.
                logger.notice(
                    "client left: its privacy budget is spent",
                    metadata: ["client": "\(name)", "reason": "\(bye.text)"])
            } else {
                logger.info("client left", metadata: ["client": "\(name)"])
            }
        default:
            // Only the messages above travel from client to server (docs/design.md 4).
            reject(.malformed, "\(message.type) is a server-to-client message", to: routingID, peer: peer)
        }
    }

    func reject(
        _ code: ErrorReplyMessage.Code, _ text: String, to routingID: [UInt8], peer: String, isUpdate: Bool = false
    ) {
        logger.warning("rejected message", metadata: ["peer": "\(peer)", "code": "\(code)", "error": "\(text)"])
        send(.error(ErrorReplyMessage(code: code, text: text)), to: routingID)
        metrics.rejected(code, isUpdate: isUpdate)
    }

    private func handleJoin(_ join: JoinMessage, name: String, routingID: [UInt8], peer: String) {
        // With CURVE the name is the allow-list's; without, the routing id must match the
        // name the client announces, so replies reach it after a reconnect.
        if curvePair == nil {
            guard join.clientName == name, !name.isEmpty else {
                return reject(
                    .rejected, "the client name must equal the socket's routing id", to: routingID, peer: peer)
            }
        } else if join.clientName != name {
            logger.info(
                "client authenticated under its allow-list name",
                metadata: ["client": "\(name)", "announced": "\(join.clientName)"])
        }
        guard join.modelFingerprint == fingerprint else {
            return reject(
                .fingerprintMismatch, "this federation trains \(fingerprint), the client has \(join.modelFingerprint)",
                to: routingID, peer: peer)
        }
        guard join.secureAggregation == (secureCohorts != nil) else {
            let text =
                secureCohorts != nil
                ? "this run uses secure aggregation and the client's configuration does not: set privacy.secure_aggregation as the server's configuration does"
                : "this run does not use secure aggregation and the client's configuration does (privacy.secure_aggregation.enabled): use the server's configuration"
            return reject(.rejected, text, to: routingID, peer: peer)
        }
        guard join.sampleCount > 0 else {
            return reject(.rejected, "a client needs training samples", to: routingID, peer: peer)
        }
        // A claim (docs/design.md 10): at most what the allow-list and the configuration allow.
        let declared = allowList?.declaredSamples(of: name)
        let samples = configuration.scheduler.boundedSamples(claimed: join.sampleCount, declared: declared)
        if samples < join.sampleCount {
            logger.warning(
                "client claims more samples than it is believed",
                metadata: ["client": "\(name)", "claimed": "\(join.sampleCount)", "counted": "\(samples)"])
        }
        let rejoined = clients[name] != nil
        clients[name] = ConnectedClient(routingID: routingID, samples: samples, lastSeen: now, peer: peer)
        let record = ClientRecord(
            id: name, displayName: name, samples: samples, lastSeen: Date(), fields: ["peer": peer])
        submit(
            .write(action: "record client '\(name)'", isCritical: false) { [runID] in
                try $0.upsertClient(run: runID, record)
            })
        logger.info(
            rejoined ? "client rejoined" : "client joined",
            metadata: ["client": "\(name)", "samples": "\(samples)", "peer": "\(peer)", "clients": "\(clients.count)"])
        perform { try core.clientJoined(name, samples: samples, now: now) }
    }

    private func handleUpdate(_ update: UpdateMessage, client: String, routingID: [UInt8], peer: String) {
        // Trained on a version set aside as damaged at resume, not yet committed again: kept as discarded, acknowledged.
        if let skipped = skippedVersions, update.baseVersion > UInt64(version),
            skipped.contains(Int(clamping: update.baseVersion))
        {
            return acknowledgeDiscarded(update, client: client, routingID: routingID)
        }
        guard update.baseVersion <= UInt64(version) else {
            return reject(
                .rejected, "base version \(update.baseVersion) is newer than the server's \(version)", to: routingID,
                peer: peer,
                isUpdate: true)
        }
        let claimed = UpdateInfo(
            id: 0, client: client, baseVersion: Int(update.baseVersion), steps: Int(update.stepsDone),
            samples: Int(clamping: update.sampleCount))
        if let refusal = core.refusal(of: claimed) {
            // A retry of an update stored and acknowledged before is acknowledged again.
            if isStored(client: client, sequence: Int(truncatingIfNeeded: update.updateID)) {
                send(.ack(AckMessage(updateID: update.updateID, acceptedVersion: UInt64(version))), to: routingID)
                return
            }
            releaseUploadSlot(of: client)
            let code: ErrorReplyMessage.Code = refusal.reason == .tooStale ? .tooStale : .unsolicited
            return reject(code, refusal.message, to: routingID, peer: peer, isUpdate: true)
        }
        let privacy = core.privacy
        let submission = UpdateSubmission(
            run: runID, client: client, sequence: Int(truncatingIfNeeded: update.updateID),
            baseVersion: Int(update.baseVersion), steps: Int(update.stepsDone), computeSeconds: update.computeSeconds,
            samples: Int(clamping: update.sampleCount), normBefore: update.normBeforeClip,
            normAfter: privacy.map { min(update.normBeforeClip, $0.clipNorm(atVersion: Int(update.baseVersion))) },
            delta: nil)
        releaseUploadSlot(of: client)
        let ack = AckMessage(updateID: update.updateID, acceptedVersion: UInt64(version))
        guard !isStored(client: client, sequence: submission.sequence) else {
            logger.info(
                "duplicate update acknowledged again",
                metadata: ["client": "\(client)", "update": "\(update.updateID)"])
            return send(.ack(ack), to: routingID)
        }
        // Written by the writer straight from the received buffer, the server makes no copy
        // of it; the ack leaves once it is durable (the gate), while the core takes it now.
        let id = nextUpdateID
        nextUpdateID += 1
        let ticket = submit(.update(id: id, submission: submission, delta: update.delta))
        unsyncedUpdates[UpdateKey(client: client, sequence: submission.sequence)] = ticket
        send(.ack(ack), to: routingID)
        metrics.updateReceived()
        recordLevel?.record(client: client, steps: Int(update.stepsDone), samples: Int(clamping: update.sampleCount))
        let info = UpdateInfo(
            id: id, client: client, baseVersion: Int(update.baseVersion), steps: Int(update.stepsDone),
            samples: Int(clamping: update.sampleCount))
        perform {
            try core.updateArrived(
                info, delta: update.delta, measuredNorm: update.delta.measuredL2Norm,
                claimedNormBeforeClip: update.normBeforeClip,
                now: now)
        }
    }

    /// Grants `client` an upload slot now, or queues it until one frees.
    func requestUploadSlot(for client: String) {
        if uploadSlots.request(client, now: now) { grant(client) }
    }

    func releaseUploadSlot(of client: String) {
        for next in uploadSlots.release(client, now: now, isConnected: { clients[$0] != nil }) {
            grant(next)
        }
    }

    private func grant(_ client: String) {
        guard let target = clients[client] else { return }
        send(.uploadGrant(UploadGrantMessage(modelVersion: UInt64(version))), to: target.routingID)
    }

    /// After a restart: the updates acknowledged but not yet aggregated go back to the scheduler.
    func replayPendingUpdates() throws {
        let pending = try store.pendingUpdates(run: runID)
        guard !pending.isEmpty else { return }
        // Masked inputs are never replayed: their cohorts' protocol state did not survive.
        if secureCohorts != nil { return try discardInterruptedMaskedInputs() }
        logger.info("replaying acknowledged updates", metadata: ["count": "\(pending.count)"])
        for update in pending {
            guard let delta = update.delta, delta.count == network.parameterCount else {
                try store.discardUpdates(run: runID, ids: [update.id])
                continue
            }
            let info = UpdateInfo(
                id: update.id, client: update.client, baseVersion: update.baseVersion, steps: update.steps,
                samples: update.samples)
            perform {
                try core.updateArrived(info, delta: delta, claimedNormBeforeClip: update.normBefore ?? 0, now: now)
            }
        }
    }

    /// Sends without waiting; an unreachable peer (gone, or not yet reconnected) is logged by the socket.
    /// A site that starts after the agreement (or again) sends its statistics first: it gets
    /// the run's preprocessing if its data fits, else the reason it does not.
    private func answerStatistics(_ message: StatisticsMessage, client name: String, routingID: [UInt8], peer: String) {
        guard let preprocessing, let preprocessingRules else {
            return reject(
                .rejected,
                "this run trains on \(configuration.data.dataset), not on sites' own data: start the client with the server's configuration",
                to: routingID, peer: peer)
        }
        do {
            try preprocessingRules.check(message.statistics)
            try preprocessingRules.check(message.statistics, against: preprocessing)
            send(.agreement(AgreementMessage(preprocessing: try AgreementPhase.encode(preprocessing))), to: routingID)
        } catch {
            reject(.rejected, "statistics refused: \(error)", to: routingID, peer: peer)
        }
    }

    /// Sends once every write handed to the writer before it is durable (``GatedSender``).
    func send(_ message: WireMessage, to routingID: [UInt8]) {
        guard socket != nil else { return }
        let frames = [.bytes(routingID)] + WireCodec.encode(message)
        metrics.sent(bytes: frames.reduce(0) { $0 + $1.byteCount })
        sender.send(frames, after: lastTicket)
    }
}
