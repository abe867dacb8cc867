import Logging
import SextantRuntime
import SextantWire

/// One client's side of the protocol as a pure state machine, like the schedulers: events
/// in, actions out (docs/design.md sections 3 and 4). It owns no socket, no clock and no
/// trainer: ``FederationClient`` feeds it the time, the server's messages and the trainer's
/// results, and carries out the actions it answers with, in order. Its rules:
///
/// - join, then join again with a backoff (0.5 s doubling to 8 s) until the server answers;
/// - a heartbeat every `heartbeatInterval` while joined (liveness only: idle or training);
/// - a finished update is announced with an `uploadRequest`, repeated every heartbeat
///   interval until the server's `uploadGrant`, then sent; an update of at most
///   `Configuration.directUploadLimit` bytes is sent at once instead (the slots bound the server's memory
///   for large messages, and asking costs a small update a round trip); without an ack
///   within `ackTimeout` it is announced (or sent) again;
/// - a new assignment replaces an unfinished task, whose update is then never sent; an
///   assignment of the version a finished, unacknowledged update was trained from (the
///   server restarted before storing it) offers that update again instead of training;
/// - `notJoined` (the server restarted) means join again; a goodbye ends the session, even
///   during the last training chunk;
/// - a server of another protocol version, a refused key or a refused join ends it with an
///   error rather than retrying forever.
package struct ClientSession: Sendable {
    package struct Configuration: Sendable {
        /// The join to send; its `lastModelVersion` is filled in at each send.
        package var join: JoinMessage
        package var heartbeatInterval: Double
        /// Seconds to wait for an ack before announcing an update again.
        package var ackTimeout: Double
        /// The server's endpoint, for error messages.
        package var server: String
        /// This client's CURVE public key (Z85); nil in plain TCP.
        package var curvePublicKey: String?
        /// Updates whose values take at most this many bytes are sent without asking for an
        /// upload slot.
        package var directUploadLimit: Int

        /// 1 MiB (262,144 parameters): the upload slots bound the server's memory for large
        /// messages, and even a thousand updates of this size in libzmq's queues at once are a
        /// gigabyte, the memory of a few large ones (docs/design.md 4).
        package static let defaultDirectUploadLimit = 1 << 20

        package init(
            join: JoinMessage, heartbeatInterval: Double, ackTimeout: Double, server: String, curvePublicKey: String?,
            directUploadLimit: Int = Self.defaultDirectUploadLimit
        ) {
            self.directUploadLimit = directUploadLimit
            self.join = join
            self.heartbeatInterval = heartbeatInterval
            self.ackTimeout = ackTimeout
            self.server = server
            self.curvePublicKey = curvePublicKey
        }
    }

    /// What happened; every event comes with the driver's clock (seconds).
    package enum Event: Sendable, Equatable {
        /// Time passed: joins, heartbeats, upload requests and ack timeouts are due on ticks.
        case tick
        case received(WireMessage)
        /// A message from the server that did not decode.
        case undecodable(WireError)
        /// The trainer finished task `task` with this update.
        case trained(task: Int, UpdateMessage)
        /// Task `task` produced no update (its privatization failed, say).
        case trainingFailed(task: Int, reason: String)
        /// Task `task`'s update went into its secure aggregation cohort, masked, instead of
        /// an upload (docs/design.md 13).
        case contributed(task: Int)
        case stopRequested
        case handshakeFailed(HandshakeFailure)
        /// The client's record-level budget allows no more DP-SGD steps (`reason` says how
        /// much was spent): it leaves once its last update is acknowledged.
        case privacyBudgetSpent(String)
    }

    /// How a connection's security handshake failed (libzmq's monitor events).
    package enum HandshakeFailure: Sendable, Equatable {
        /// The server refused this client's key.
        case authentication
        /// A protocol error: a client without keys met a CURVE server, or keys mismatch.
        case protocolError
        case noDetail
    }

    /// What the driver must do.
    package enum Action: Sendable, Equatable {
        case send(WireMessage)
        /// Train `assignment` as task `task` (replacing nothing: a `dropTask` comes first).
        case train(task: Int, AssignmentMessage)
        /// Abandon the unfinished task; its update must not be produced.
        case dropTask
        /// Evaluate this global model on the validation split and send the server an
        /// `evaluation` (the task, if any, goes on).
        case evaluate(EvaluateMessage)
        /// The session is over with this outcome.
        case finish(FederationClient.Outcome)
        /// The session is over and cannot go on.
        case fail(RuntimeError)
        case log(LogLine)
    }

    /// A log line as a value, for the driver's logger.
    package struct LogLine: Sendable, Equatable {
        package var level: Logger.Level
        package var message: String
        package var metadata: [String: String]

        package init(_ level: Logger.Level, _ message: String, _ metadata: [String: String] = [:]) {
            self.level = level
            self.message = message
            self.metadata = metadata
        }
    }

    /// A finished update not yet acknowledged.
    package struct Pending: Sendable, Equatable {
        package var message: UpdateMessage
        /// When it was sent; nil while it waits for an upload slot.
        package var sentAt: Double?
    }

    static let firstJoinBackoff = 0.5
    static let longestJoinBackoff = 8.0
    /// Seconds between two warnings about failing handshakes.
    static let handshakeWarningInterval = 10.0

    package let configuration: Configuration
    package private(set) var summary = FederationClient.Summary(
        outcome: .interrupted, tasks: 0, updatesAcknowledged: 0, lastVersion: 0)
    package private(set) var joined = false
    package private(set) var joinBackoff = firstJoinBackoff
    package private(set) var pending: Pending?
    /// The number of the task being trained, if any.
    package private(set) var task: Int?
    /// True once the session finished or failed: it then ignores every event.
    package private(set) var isOver = false
    /// Set when the privacy budget is spent: the goodbye's text, sent after the last ack.
    package private(set) var leavingBecause: String?
    private var tasksStarted = 0
    private var lastJoinSent = -Double.infinity
    private var lastHeartbeat = -Double.infinity
    private var lastHandshakeWarning = -Double.infinity
    /// When the first join that no message has answered yet was sent.
    private var unansweredSince: Double?

    package init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Handles one event at time `now` and returns what to do, in order.
    package mutating func handle(_ event: Event, now: Double) -> [Action] {
        guard !isOver else { return [] }
        var actions: [Action] = []
        switch event {
        case .tick: tick(now: now, into: &actions)
        case .received(let message): receive(message, now: now, into: &actions)
        case .undecodable(let error):
            unansweredSince = nil
            undecodable(error, into: &actions)
        case .trained(let number, let update): trained(number, update, now: now, into: &actions)
        case .trainingFailed(let number, let reason):
            guard number == task else { break }
            task = nil
            actions.append(.log(LogLine(.error, "\(reason); dropping the task")))
        case .contributed(let number):
            guard number == task else { break }
            task = nil
            summary.tasks += 1
        case .stopRequested:
            actions.append(.send(.bye(ByeMessage(reason: .shutdown, text: "client stopping"))))
            finish(.interrupted, into: &actions)
        case .handshakeFailed(let failure): handshakeFailed(failure, now: now, into: &actions)
        case .privacyBudgetSpent(let reason):
            task = nil
            if leavingBecause == nil { actions.append(.log(LogLine(.notice, reason))) }
            leavingBecause = reason
            if pending == nil { leave(because: reason, into: &actions) }
        }
        return actions
    }

    // MARK: - Time

    private mutating func tick(now: Double, into actions: inout [Action]) {
        warnIfUnanswered(now: now, into: &actions)
        if !joined && now - lastJoinSent >= joinBackoff {
            var join = configuration.join
            join.lastModelVersion = UInt64(summary.lastVersion)
            actions.append(.send(.join(join)))
            if unansweredSince == nil { unansweredSince = now }
            lastJoinSent = now
            joinBackoff = min(joinBackoff * 2, Self.longestJoinBackoff)
        }
        if let pending, let sentAt = pending.sentAt, now - sentAt >= configuration.ackTimeout {
            actions.append(
                .log(
                    LogLine(.info, "no ack, asking to send the update again", ["update": "\(pending.message.updateID)"])
                ))
            self.pending?.sentAt = nil
        }
        if joined && now - lastHeartbeat >= configuration.heartbeatInterval {
            if let pending, pending.sentAt == nil {
                // While an update waits for an upload slot, the request stands in for the heartbeat.
                requestUpload(pending.message, now: now, into: &actions)
            } else {
                let state: HeartbeatMessage.State = task == nil ? .idle : .training
                actions.append(
                    .send(.heartbeat(HeartbeatMessage(modelVersion: UInt64(summary.lastVersion), state: state))))
                lastHeartbeat = now
            }
        }
    }

    // MARK: - Messages

    private mutating func receive(_ message: WireMessage, now: Double, into actions: inout [Action]) {
        unansweredSince = nil
        switch message {
        case .assignment(let assignment):
            assigned(assignment, now: now, into: &actions)
        case .uploadGrant:
            // Only an update waiting for its slot is sent; one in flight waits for its ack.
            guard let pending, pending.sentAt == nil else { return }
            actions.append(.send(.update(pending.message)))
            self.pending?.sentAt = now
        case .wait(let wait):
            if !joined, let pending {
                // Joined again after a restart: the unacknowledged update is offered again.
                joined = true
                self.pending?.sentAt = nil
                requestUpload(pending.message, now: now, into: &actions)
            }
            confirmJoined()
            summary.lastVersion = max(summary.lastVersion, Int(clamping: wait.modelVersion))
        case .ack(let ack):
            guard pending?.message.updateID == ack.updateID else { return }
            pending = nil
            summary.updatesAcknowledged += 1
            actions.append(
                .log(
                    LogLine(
                        .info, "update acknowledged",
                        ["update": "\(ack.updateID)", "server version": "\(ack.acceptedVersion)"])))
            if let reason = leavingBecause { leave(because: reason, into: &actions) }
        case .error(let error):
            refused(error, into: &actions)
        case .evaluate(let request):
            // Only a joined session evaluates: an evaluation from a stale connection's
            // queue is of a run this session has not joined.
            guard joined else { return }
            actions.append(.evaluate(request))
        case .bye(let bye):
            actions.append(.log(LogLine(.info, "server said goodbye: \(bye.reason) \(bye.text)")))
            finish(bye.reason == .done ? .done : .serverStopped, into: &actions)
        default:
            // Only the messages above travel from server to client (docs/design.md 4).
            actions.append(
                .log(LogLine(.warning, "ignored a client-to-server message (\(message.type)) from the server")))
        }
    }

    private mutating func assigned(_ assignment: AssignmentMessage, now: Double, into actions: inout [Action]) {
        confirmJoined()
        if let pending, pending.message.baseVersion == assignment.modelVersion {
            // The server lost this task's update (it restarted before acknowledging it):
            // offer the finished work again instead of training the same task twice.
            actions.append(
                .log(
                    LogLine(
                        .info, "assigned a version already trained: offering its update again",
                        ["version": "\(assignment.modelVersion)", "update": "\(pending.message.updateID)"])))
            self.pending?.sentAt = nil
            requestUpload(pending.message, now: now, into: &actions)
            return
        }
        if assignment.localSteps > 0, assignment.batchSize > 0, assignment.learningRate.isFinite,
            assignment.learningRate > 0
        {
            if task != nil {
                actions.append(.log(LogLine(.info, "a new assignment replaces the unfinished one")))
                actions.append(.dropTask)
            }
            tasksStarted += 1
            task = tasksStarted
            summary.lastVersion = Int(clamping: assignment.modelVersion)
            actions.append(.train(task: tasksStarted, assignment))
            actions.append(
                .log(
                    LogLine(
                        .info, "training",
                        ["version": "\(assignment.modelVersion)", "steps": "\(assignment.localSteps)"])))
        } else {
            actions.append(.log(LogLine(.warning, "ignored an assignment with invalid hyper-parameters")))
        }
        if let pending {
            // An update of an older version is still unacknowledged: offer it again too.
            self.pending?.sentAt = nil
            requestUpload(pending.message, now: now, into: &actions)
        }
    }

    private mutating func refused(_ error: ErrorReplyMessage, into actions: inout [Action]) {
        switch error.code {
        case .notJoined:
            if joined {
                actions.append(
                    .log(LogLine(.info, "the server does not know this client (it restarted?): joining again")))
            }
            joined = false
            joinBackoff = Self.firstJoinBackoff
            lastJoinSent = -Double.infinity
        case .fingerprintMismatch, .rejected:
            actions.append(.log(LogLine(.error, "the server rejected this client: \(error.text)")))
            fail(RuntimeError(.rejected, "rejected by the server: \(error.text)"), into: &actions)
        case .unsupportedVersion:
            let line =
                "the server does not speak this client's protocol version \(WireCodec.protocolVersion): \(error.text)"
            actions.append(.log(LogLine(.error, line)))
            fail(RuntimeError(.incompatibleVersion, line), into: &actions)
        default:
            actions.append(.log(LogLine(.warning, "server error \(error.code): \(error.text)")))
            if let pending,
                [.nonFinite, .normTooLarge, .wrongPayloadSize, .unsolicited, .tooStale].contains(error.code)
            {
                actions.append(
                    .log(LogLine(.error, "the server refused update \(pending.message.updateID); dropping it")))
                self.pending = nil
            }
        }
    }

    private mutating func undecodable(_ error: WireError, into actions: inout [Action]) {
        guard error.code == .unsupportedVersion else {
            actions.append(.log(LogLine(.warning, "ignored a malformed message from the server: \(error)")))
            return
        }
        let ours = WireCodec.protocolVersion
        let line: String
        if let theirs = error.peerVersion {
            let upgrade = theirs > ours ? "upgrade this client" : "upgrade the server"
            line = "the server speaks protocol version \(theirs), this client speaks \(ours): \(upgrade)"
        } else {
            line = "the server speaks another protocol version than this client's \(ours): \(error.message)"
        }
        actions.append(.log(LogLine(.error, line)))
        fail(RuntimeError(.incompatibleVersion, line), into: &actions)
    }

    // MARK: - Training

    private mutating func trained(_ number: Int, _ update: UpdateMessage, now: Double, into actions: inout [Action]) {
        guard number == task else {
            // A newer assignment replaced this task meanwhile: its update is stale.
            actions.append(
                .log(LogLine(.info, "dropped the update of a replaced task", ["version": "\(update.baseVersion)"])))
            return
        }
        task = nil
        summary.tasks += 1
        if let pending {
            actions.append(
                .log(
                    LogLine(
                        .warning,
                        "update \(pending.message.updateID) was never acknowledged; replacing it with a newer one")))
        }
        pending = Pending(message: update, sentAt: nil)
        requestUpload(update, now: now, into: &actions)
    }

    // MARK: - Connection

    private mutating func handshakeFailed(_ failure: HandshakeFailure, now: Double, into actions: inout [Action]) {
        switch failure {
        case .authentication:
            actions.append(
                .log(LogLine(.error, "the server refused this client's key: it is not on the server's allow-list")))
            fail(
                RuntimeError(
                    .rejected,
                    "the server refused this client's key (\(configuration.curvePublicKey ?? "")): ask its operator to add this client's .pub file to the allow-list"
                ), into: &actions)
        case .protocolError where configuration.curvePublicKey == nil:
            actions.append(.log(LogLine(.error, "the server requires CURVE, and this client has no keys")))
            fail(
                RuntimeError(
                    .rejected,
                    "the server at \(configuration.server) requires CURVE encryption: set security.server_public_key and security.client_key (or --key); see docs/deployment.md"
                ), into: &actions)
        case .protocolError:
            // A CURVE client whose messages the server could not read: the evidence points at the keys.
            warnNowAndThen(
                "the CURVE handshake with the server failed: is security.server_public_key the server's key? retrying",
                now: now, into: &actions)
        case .noDetail:
            // libzmq gives no reason: most often the connection opened and the server never
            // answered the greeting (frozen, overloaded) before libzmq's handshake timeout.
            warnNowAndThen(
                "no reply from \(configuration.server) during the connection's handshake (the server is down, frozen, or unreachable); retrying",
                now: now, into: &actions)
        }
    }

    /// Unanswered joins: says, now and then, how long the server has been silent.
    private mutating func warnIfUnanswered(now: Double, into actions: inout [Action]) {
        guard !joined, let since = unansweredSince, now - since >= Self.handshakeWarningInterval else { return }
        warnNowAndThen(
            "no reply from \(configuration.server) within \(Int(now - since)) s (the server is down, frozen, or unreachable); retrying",
            now: now, into: &actions)
    }

    /// Logs `message` unless a warning about the connection went out in the last 10 s
    /// (libzmq retries by itself; one line now and then says it still fails).
    private mutating func warnNowAndThen(_ message: String, now: Double, into actions: inout [Action]) {
        guard now - lastHandshakeWarning >= Self.handshakeWarningInterval else { return }
        lastHandshakeWarning = now
        actions.append(.log(LogLine(.warning, message)))
    }

    // MARK: - Helpers

    /// Sends a small update at once (see `Configuration.directUploadLimit`), or asks the server for an
    /// upload slot for a larger one; either counts as this interval's heartbeat.
    private mutating func requestUpload(_ update: UpdateMessage, now: Double, into actions: inout [Action]) {
        lastHeartbeat = now
        if update.delta.count * MemoryLayout<Float>.size <= configuration.directUploadLimit {
            actions.append(.send(.update(update)))
            pending?.sentAt = now
            return
        }
        actions.append(
            .send(.uploadRequest(UploadRequestMessage(updateID: update.updateID, baseVersion: update.baseVersion))))
    }

    private mutating func confirmJoined() {
        joined = true
        joinBackoff = Self.firstJoinBackoff
    }

    /// Says goodbye for the privacy budget: the server drops this client from scheduling.
    private mutating func leave(because reason: String, into actions: inout [Action]) {
        actions.append(.send(.bye(ByeMessage(reason: .privacyBudgetSpent, text: reason))))
        finish(.privacyBudgetSpent, into: &actions)
    }

    private mutating func finish(_ outcome: FederationClient.Outcome, into actions: inout [Action]) {
        summary.outcome = outcome
        isOver = true
        actions.append(.finish(outcome))
    }

    private mutating func fail(_ error: RuntimeError, into actions: inout [Action]) {
        isOver = true
        actions.append(.fail(error))
    }
}
