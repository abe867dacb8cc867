import SextantWire
import Testing

@testable import SextantClient
@testable import SextantRuntime
@testable import SextantServer

/// The client's protocol as a state machine (docs/design.md section 4): events in, actions
/// out, with a fake clock and no socket or trainer.
@Suite("ClientSession")
struct ClientSessionTests {
    typealias Action = ClientSession.Action

    static let heartbeatInterval = 2.0
    static let ackTimeout = 15.0

    /// A session and the time it is driven at (a class, so `#expect` can drive it).
    final class Harness {
        var session: ClientSession
        var now = 0.0

        /// `directUploadLimit` 0 (the default here) makes every update ask for a slot, as a
        /// large one does.
        init(curvePublicKey: String? = nil, directUploadLimit: Int = 0) {
            session = ClientSession(
                configuration: ClientSession.Configuration(
                    join: JoinMessage(clientName: "c1", sampleCount: 10, modelFingerprint: "logreg:4:2"),
                    heartbeatInterval: ClientSessionTests.heartbeatInterval, ackTimeout: ClientSessionTests.ackTimeout,
                    server: "tcp://server:5555", curvePublicKey: curvePublicKey, directUploadLimit: directUploadLimit))
        }

        func at(_ time: Double, _ event: ClientSession.Event) -> [Action] {
            now = time
            return session.handle(event, now: time)
        }

        /// Joins at time 0 and is confirmed by a wait for version `version`.
        func joined(version: UInt64 = 0) {
            _ = at(0, .tick)
            _ = at(0.1, .received(.wait(WaitMessage(modelVersion: version))))
        }
    }

    static func sent(_ actions: [Action]) -> [WireMessage] {
        actions.compactMap { if case .send(let message) = $0 { message } else { nil } }
    }

    static func logs(_ actions: [Action]) -> [String] {
        actions.compactMap { if case .log(let line) = $0 { line.message } else { nil } }
    }

    static func assignment(version: UInt64, steps: UInt32 = 10) -> AssignmentMessage {
        AssignmentMessage(
            runID: "r", modelVersion: version, localSteps: steps, learningRate: 0.1, batchSize: 4,
            model: FloatPayload([0, 0]))
    }

    static func update(id: UInt64, base: UInt64) -> UpdateMessage {
        UpdateMessage(
            updateID: id, baseVersion: base, stepsDone: 10, computeSeconds: 1, sampleCount: 10, trainLoss: 0.5,
            normBeforeClip: 1, clipped: false, delta: FloatPayload([0.5, -0.5]))
    }

    static func request(_ update: UpdateMessage) -> WireMessage {
        .uploadRequest(UploadRequestMessage(updateID: update.updateID, baseVersion: update.baseVersion))
    }

    /// Joined, trained version 3 and holding update 7 sent at time 10, unacknowledged.
    static func withUpdateInFlight() -> (Harness, UpdateMessage) {
        let harness = Harness()
        harness.joined()
        _ = harness.at(1, .received(.assignment(assignment(version: 3))))
        let update = update(id: 7, base: 3)
        _ = harness.at(9, .trained(task: 1, update))
        _ = harness.at(10, .received(.uploadGrant(UploadGrantMessage(modelVersion: 3))))
        return (harness, update)
    }

    // MARK: - Joining

    @Test("joins at once, then again 1, 2, 4 and 8 s later, and never more than 8 s apart")
    func joinBackoff() {
        let harness = Harness()
        var joins: [Double] = []
        for step in 0...400 {
            let time = Double(step) / 10
            for case .join(let join) in Self.sent(harness.at(time, .tick)) {
                #expect(join.clientName == "c1" && join.lastModelVersion == 0)
                joins.append(time)
            }
        }
        #expect(joins == [0, 1, 3, 7, 15, 23, 31, 39])
    }

    @Test("a wait confirms the join: heartbeats replace joins, with the server's version")
    func waitConfirmsTheJoin() {
        let harness = Harness()
        _ = harness.at(0, .tick)
        #expect(harness.at(0.2, .received(.wait(WaitMessage(modelVersion: 5)))) == [])
        #expect(harness.session.joined && harness.session.summary.lastVersion == 5)
        #expect(Self.sent(harness.at(0.5, .tick)) == [.heartbeat(HeartbeatMessage(modelVersion: 5, state: .idle))])
        #expect(harness.at(2, .tick) == [])
        #expect(Self.sent(harness.at(2.5, .tick)) == [.heartbeat(HeartbeatMessage(modelVersion: 5, state: .idle))])
        // An older version in a late wait does not go back.
        _ = harness.at(3, .received(.wait(WaitMessage(modelVersion: 4))))
        #expect(harness.session.summary.lastVersion == 5)
    }

    // MARK: - Training and uploading

    @Test("an assignment starts a task; its update is announced, sent on the grant and acknowledged")
    func uploadPath() {
        let harness = Harness()
        _ = harness.at(0, .tick)
        let assignment = Self.assignment(version: 3)
        let started = harness.at(0.3, .received(.assignment(assignment)))
        #expect(started.contains(.train(task: 1, assignment)))
        #expect(!started.contains(.dropTask))
        #expect(Self.sent(harness.at(1, .tick)) == [.heartbeat(HeartbeatMessage(modelVersion: 3, state: .training))])

        let update = Self.update(id: 7, base: 3)
        #expect(Self.sent(harness.at(2, .trained(task: 1, update))) == [Self.request(update)])
        #expect(harness.session.summary.tasks == 1)
        // No grant yet: the request is repeated every heartbeat interval, in place of a heartbeat.
        #expect(harness.at(3.9, .tick) == [])
        #expect(Self.sent(harness.at(4, .tick)) == [Self.request(update)])

        #expect(
            Self.sent(harness.at(4.5, .received(.uploadGrant(UploadGrantMessage(modelVersion: 3))))) == [
                .update(update)
            ])
        // A second grant while the update is in flight sends nothing.
        #expect(harness.at(4.6, .received(.uploadGrant(UploadGrantMessage(modelVersion: 3)))) == [])
        // In flight, heartbeats are plain again.
        #expect(Self.sent(harness.at(6, .tick)) == [.heartbeat(HeartbeatMessage(modelVersion: 3, state: .idle))])

        #expect(harness.at(6.1, .received(.ack(AckMessage(updateID: 99, acceptedVersion: 3)))) == [])
        let acked = harness.at(6.2, .received(.ack(AckMessage(updateID: 7, acceptedVersion: 3))))
        #expect(Self.logs(acked) == ["update acknowledged"])
        #expect(harness.session.pending == nil)
        #expect(harness.session.summary.updatesAcknowledged == 1)
        // A grant with nothing to send is ignored.
        #expect(harness.at(7, .received(.uploadGrant(UploadGrantMessage(modelVersion: 4)))) == [])
    }

    @Test("an update within the direct upload limit goes at once, again after the ack timeout, and ignores grants")
    func smallUpdatesSkipTheSlot() {
        // 2 values = 8 bytes: at the limit it goes at once, one byte below it asks for a slot.
        let update = Self.update(id: 7, base: 3)
        let asking = Harness(directUploadLimit: 7)
        asking.joined()
        _ = asking.at(1, .received(.assignment(Self.assignment(version: 3))))
        #expect(Self.sent(asking.at(2, .trained(task: 1, update))) == [Self.request(update)])

        let harness = Harness(directUploadLimit: 8)
        harness.joined()
        _ = harness.at(1, .received(.assignment(Self.assignment(version: 3))))
        #expect(Self.sent(harness.at(2, .trained(task: 1, update))) == [.update(update)])
        #expect(harness.session.pending?.sentAt == 2)
        // In flight: a grant sends nothing, and heartbeats are plain.
        #expect(harness.at(2.5, .received(.uploadGrant(UploadGrantMessage(modelVersion: 3)))) == [])
        #expect(Self.sent(harness.at(4, .tick)) == [.heartbeat(HeartbeatMessage(modelVersion: 3, state: .idle))])
        // No ack within the timeout: sent again with the heartbeat that is due, without asking.
        let timedOut = harness.at(17, .tick)
        #expect(Self.logs(timedOut) == ["no ack, asking to send the update again"])
        #expect(Self.sent(timedOut) == [.update(update)])
        #expect(harness.session.pending?.sentAt == 17)
        _ = harness.at(18.5, .received(.ack(AckMessage(updateID: 7, acceptedVersion: 3))))
        #expect(harness.session.pending == nil && harness.session.summary.updatesAcknowledged == 1)
    }

    @Test("the default direct upload limit is 1 MiB: a 262,144-parameter update goes at once, one more asks")
    func defaultDirectUploadLimit() {
        #expect(ClientSession.Configuration.defaultDirectUploadLimit == 1 << 20)
        for (count, direct) in [(262_144, true), (262_145, false)] {
            let harness = Harness(directUploadLimit: ClientSession.Configuration.defaultDirectUploadLimit)
            harness.joined()
            _ = harness.at(1, .received(.assignment(Self.assignment(version: 3))))
            var update = Self.update(id: 7, base: 3)
            update.delta = FloatPayload([Float](repeating: 0.25, count: count))
            let sent = Self.sent(harness.at(2, .trained(task: 1, update)))
            #expect(sent == (direct ? [.update(update)] : [Self.request(update)]))
        }
    }

    @Test("without an ack within the timeout the update is announced again and resent on the grant")
    func ackTimeoutResends() {
        let (harness, update) = Self.withUpdateInFlight()
        #expect(Self.sent(harness.at(24.9, .tick)) == [.heartbeat(HeartbeatMessage(modelVersion: 3, state: .idle))])
        let timedOut = harness.at(25, .tick)
        #expect(Self.logs(timedOut) == ["no ack, asking to send the update again"])
        #expect(harness.session.pending?.sentAt == nil)
        #expect(Self.sent(harness.at(27, .tick)) == [Self.request(update)])
        #expect(
            Self.sent(harness.at(27.1, .received(.uploadGrant(UploadGrantMessage(modelVersion: 3))))) == [
                .update(update)
            ])
        _ = harness.at(28, .received(.ack(AckMessage(updateID: 7, acceptedVersion: 3))))
        #expect(harness.session.summary.updatesAcknowledged == 1)
    }

    @Test("a server that refuses an update's payload makes the client drop it")
    func refusedUpdateIsDropped() {
        let (harness, _) = Self.withUpdateInFlight()
        let refused = harness.at(11, .received(.error(ErrorReplyMessage(code: .normTooLarge, text: "norm 1e9"))))
        #expect(
            Self.logs(refused) == ["server error normTooLarge: norm 1e9", "the server refused update 7; dropping it"])
        #expect(harness.session.pending == nil)
    }

    @Test("an assignment with invalid hyper-parameters is ignored")
    func invalidAssignment() {
        let harness = Harness()
        harness.joined()
        var bad = Self.assignment(version: 1)
        bad.learningRate = .nan
        let actions = harness.at(1, .received(.assignment(bad)))
        #expect(Self.logs(actions) == ["ignored an assignment with invalid hyper-parameters"])
        #expect(harness.session.task == nil)
    }

    // MARK: - A newer assignment, a restart

    @Test("a newer assignment replaces the unfinished task, and the stale update is never sent")
    func newerAssignmentReplacesTheTask() {
        let harness = Harness()
        harness.joined()
        _ = harness.at(1, .received(.assignment(Self.assignment(version: 3))))
        let newer = Self.assignment(version: 4)
        let replaced = harness.at(2, .received(.assignment(newer)))
        #expect(replaced.contains(.dropTask))
        #expect(replaced.firstIndex(of: .dropTask)! < replaced.firstIndex(of: .train(task: 2, newer))!)
        #expect(Self.logs(replaced).contains("a new assignment replaces the unfinished one"))

        // The replaced task's update (finished meanwhile) is dropped, not announced.
        let stale = harness.at(3, .trained(task: 1, Self.update(id: 1, base: 3)))
        #expect(Self.sent(stale) == [])
        #expect(harness.session.pending == nil && harness.session.summary.tasks == 0)
        let fresh = Self.update(id: 2, base: 4)
        #expect(Self.sent(harness.at(4, .trained(task: 2, fresh))) == [Self.request(fresh)])
    }

    @Test("the server re-assigns the version of an unacknowledged update (it restarted): the update is offered again")
    func restartReassignsTheSameVersion() {
        let (harness, update) = Self.withUpdateInFlight()
        let again = harness.at(12, .received(.assignment(Self.assignment(version: 3))))
        #expect(!again.contains { if case .train = $0 { true } else { false } })
        #expect(Self.sent(again) == [Self.request(update)])
        #expect(
            Self.sent(harness.at(12.5, .received(.uploadGrant(UploadGrantMessage(modelVersion: 3))))) == [
                .update(update)
            ])
    }

    @Test("a newer assignment while an update is unacknowledged trains it and offers the old update again")
    func newerAssignmentWithAnUpdateInFlight() {
        let (harness, update) = Self.withUpdateInFlight()
        let newer = Self.assignment(version: 5)
        let actions = harness.at(12, .received(.assignment(newer)))
        #expect(actions.contains(.train(task: 2, newer)))
        #expect(Self.sent(actions) == [Self.request(update)])
    }

    @Test("notJoined after a server restart: join again at once, then offer the unacknowledged update")
    func notJoinedRejoins() {
        let (harness, update) = Self.withUpdateInFlight()
        let refused = harness.at(11, .received(.error(ErrorReplyMessage(code: .notJoined, text: "unknown client"))))
        #expect(Self.logs(refused) == ["the server does not know this client (it restarted?): joining again"])
        #expect(!harness.session.joined)
        let rejoin = Self.sent(harness.at(11.1, .tick))
        guard case .join(let join) = rejoin.first else {
            Issue.record("no join after notJoined: \(rejoin)")
            return
        }
        #expect(join.lastModelVersion == 3)
        // The backoff starts over.
        #expect(Self.sent(harness.at(12, .tick)) == [])
        #expect(Self.sent(harness.at(12.1, .tick)).count == 1)
        #expect(Self.sent(harness.at(12.2, .received(.wait(WaitMessage(modelVersion: 3))))) == [Self.request(update)])
        #expect(harness.session.joined)
    }

    // MARK: - Endings

    @Test("a goodbye during the last training chunk ends the session, and no update is sent")
    func goodbyeDuringTraining() {
        let harness = Harness()
        harness.joined()
        _ = harness.at(1, .received(.assignment(Self.assignment(version: 3))))
        let bye = harness.at(2, .received(.bye(ByeMessage(reason: .done, text: "training finished"))))
        #expect(bye.last == .finish(.done))
        #expect(harness.session.summary.outcome == .done)
        #expect(harness.at(2.1, .trained(task: 1, Self.update(id: 1, base: 3))) == [])
        #expect(harness.at(10, .tick) == [])
    }

    @Test("a server stopping for another reason ends the session as stopped")
    func serverStopped() {
        let harness = Harness()
        harness.joined()
        #expect(harness.at(1, .received(.bye(ByeMessage(reason: .shutdown)))).last == .finish(.serverStopped))
    }

    @Test("a stop request says goodbye and ends the session as interrupted")
    func stopRequested() {
        let harness = Harness()
        harness.joined()
        let actions = harness.at(1, .stopRequested)
        #expect(Self.sent(actions) == [.bye(ByeMessage(reason: .shutdown, text: "client stopping"))])
        #expect(actions.last == .finish(.interrupted))
    }

    @Test("a refused join ends the session with an error")
    func rejected() {
        let harness = Harness()
        _ = harness.at(0, .tick)
        let actions = harness.at(
            0.1, .received(.error(ErrorReplyMessage(code: .fingerprintMismatch, text: "cnn vs logreg"))))
        #expect(actions.last == .fail(RuntimeError(.rejected, "rejected by the server: cnn vs logreg")))
        #expect(harness.session.isOver)
    }

    // MARK: - Protocol versions

    @Test("a server of an older protocol version: one line naming both versions, then a clear error")
    func olderServer() throws {
        let harness = Harness()
        _ = harness.at(0, .tick)
        let error = WireError(.unsupportedVersion, "unsupported protocol version 1", peerVersion: 1)
        let actions = harness.at(0.1, .undecodable(error))
        let line =
            "the server speaks protocol version 1, this client speaks \(WireCodec.protocolVersion): upgrade the server"
        #expect(Self.logs(actions) == [line])
        #expect(actions.last == .fail(RuntimeError(.incompatibleVersion, line)))
        // Over: no more joins, however long it is driven.
        #expect(harness.at(60, .tick) == [])
    }

    @Test("a server of a newer protocol version: the line says to upgrade this client")
    func newerServer() {
        let harness = Harness()
        let newer = WireCodec.protocolVersion + 1
        let actions = harness.at(0, .undecodable(WireError(.unsupportedVersion, "", peerVersion: newer)))
        #expect(
            Self.logs(actions) == [
                "the server speaks protocol version \(newer), this client speaks \(WireCodec.protocolVersion): upgrade this client"
            ])
    }

    @Test("a server's unsupportedVersion reply ends the session; other malformed messages are only logged")
    func versionRefusalReply() {
        let harness = Harness()
        #expect(
            Self.logs(harness.at(0, .undecodable(WireError(.malformed, "metadata truncated"))))
                == ["ignored a malformed message from the server: metadata truncated"])
        #expect(!harness.session.isOver)
        let text = "client c1 speaks protocol version 3, this server speaks 4: upgrade the client"
        let actions = harness.at(1, .received(.error(ErrorReplyMessage(code: .unsupportedVersion, text: text))))
        guard case .fail(let error) = actions.last else {
            Issue.record("the session went on: \(actions)")
            return
        }
        #expect(error.code == .incompatibleVersion && error.message.hasSuffix(text))
    }

    // MARK: - Handshakes

    @Test("a refused key ends the session; a client without keys facing CURVE is told so")
    func handshakeRefusals() {
        let withKey = Harness(curvePublicKey: "KEY")
        guard case .fail(let refused) = withKey.at(1, .handshakeFailed(.authentication)).last else {
            Issue.record("a refused key did not end the session")
            return
        }
        #expect(refused.code == .rejected && refused.message.contains("(KEY)"))

        let plain = Harness()
        guard case .fail(let needsCurve) = plain.at(1, .handshakeFailed(.protocolError)).last else {
            Issue.record("a plain client facing CURVE did not stop")
            return
        }
        #expect(needsCurve.message.contains("tcp://server:5555 requires CURVE"))
    }

    @Test("other handshake failures are retried, with a warning at most every 10 s")
    func handshakeWarnings() {
        let harness = Harness(curvePublicKey: "KEY")
        var warnings: [Double] = []
        for time in stride(from: 0.0, through: 25, by: 1) where !harness.at(time, .handshakeFailed(.noDetail)).isEmpty {
            warnings.append(time)
        }
        #expect(warnings == [0, 10, 20])
        #expect(!harness.session.isOver)
    }

    @Test("a server that never answers is called unreachable, not a key problem, when the client has no keys")
    func silentServerWithoutKeys() {
        let harness = Harness()
        var lines: [(Double, String)] = []
        for time in stride(from: 0.0, through: 25, by: 1) {
            lines += Self.logs(harness.at(time, .tick)).map { (time, $0) }
        }
        #expect(lines.map(\.0) == [10, 20], "\(lines)")
        #expect(
            lines.first?.1
                == "no reply from tcp://server:5555 within 10 s (the server is down, frozen, or unreachable); retrying")
        // libzmq's handshake timeout against a frozen server: no detail, so no blame on keys.
        let handshake = Self.logs(harness.at(31, .handshakeFailed(.noDetail)))
        #expect(handshake.count == 1 && handshake.allSatisfy { $0.contains("no reply from tcp://server:5555") })
        #expect(!(lines.map(\.1) + handshake).contains { $0.contains("CURVE") || $0.contains("key") })
        // An answer ends the warnings.
        _ = harness.at(32, .received(.wait(WaitMessage(modelVersion: 0))))
        #expect((33...60).flatMap { Self.logs(harness.at(Double($0), .tick)) }.isEmpty)
    }

    @Test("with CURVE, only a protocol error in the handshake points at the server key")
    func curveKeyBlame() {
        let harness = Harness(curvePublicKey: "KEY")
        let silent = Self.logs(harness.at(0, .handshakeFailed(.noDetail)))
        #expect(silent.count == 1 && !silent[0].contains("server_public_key"), "\(silent)")
        let garbled = Self.logs(harness.at(11, .handshakeFailed(.protocolError)))
        #expect(garbled.count == 1 && garbled[0].contains("security.server_public_key"), "\(garbled)")
    }

    @Test("a failed task produces no update and leaves the session idle")
    func trainingFailed() {
        let harness = Harness()
        harness.joined()
        _ = harness.at(1, .received(.assignment(Self.assignment(version: 3))))
        let actions = harness.at(2, .trainingFailed(task: 1, reason: "could not privatize the update: no randomness"))
        #expect(Self.logs(actions) == ["could not privatize the update: no randomness; dropping the task"])
        #expect(harness.session.task == nil)
        #expect(Self.sent(harness.at(3, .tick)) == [.heartbeat(HeartbeatMessage(modelVersion: 3, state: .idle))])
    }

    @Test("an evaluation request is carried out when joined, beside a running task, and ignored before")
    func evaluationRequests() {
        let request = EvaluateMessage(runID: "r", modelVersion: 3, model: [1, 2])
        let harness = Harness()
        _ = harness.at(0, .tick)
        #expect(harness.at(0.05, .received(.evaluate(request))).isEmpty)
        harness.joined()
        _ = harness.at(1, .received(.assignment(Self.assignment(version: 3))))
        let actions = harness.at(1.5, .received(.evaluate(request)))
        #expect(actions == [.evaluate(request)])
        #expect(harness.session.task != nil)
    }
}
