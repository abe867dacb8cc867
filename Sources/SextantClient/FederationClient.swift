import Foundation
import Logging
import SextantML
import SextantRuntime
import SextantWire

/// One client: connects to the server, joins, trains each assignment on its own data and
/// sends back the delta, until the server says the run is done.
///
/// It runs on the calling thread, which owns the DEALER socket (never the cooperative
/// pool): training happens in short chunks between polls, so heartbeats, acks and a new
/// assignment are handled while it trains.
public final class FederationClient {
    public struct Settings: Sendable {
        public var server: String
        public var name: String
        public var architecture: ModelArchitecture
        public var momentum: Double
        public var weightDecay: Double
        public var speed: SpeedModel
        public var heartbeatInterval: Double = 2
        /// Seconds to wait for an ack before sending an update again.
        public var ackTimeout: Double = 15
        public var seed: UInt64
        /// Record-level DP-SGD for local training (nil: plain SGD).
        public var recordLevel: PrivacySection.RecordLevelPlan?
        /// CURVE keys; nil connects in plain TCP.
        public var curve: ClientCurve?

        public init(
            server: String, name: String, architecture: ModelArchitecture, momentum: Double, weightDecay: Double,
            speed: SpeedModel, seed: UInt64
        ) {
            self.server = server
            self.name = name
            self.architecture = architecture
            self.momentum = momentum
            self.weightDecay = weightDecay
            self.speed = speed
            self.seed = seed
        }
    }

    public struct Summary: Sendable {
        public var outcome: Outcome
        public var tasks: Int
        public var updatesAcknowledged: Int
        public var lastVersion: Int
    }

    public enum Outcome: Sendable, Equatable {
        case done, serverStopped, interrupted
    }

    let settings: Settings
    let data: Dataset
    let logger: Logger
    let stop: StopFlag
    let network: Network
    let fingerprint: String
    var speed: SpeedModel

    var socket: ZMQSocket!
    /// Handshake events: how a client learns the server refused its key or wants CURVE.
    var monitor: ZMQMonitor?
    var lastHandshakeWarning = -Double.infinity
    var joined = false
    var lastJoinSent = -Double.infinity
    var joinBackoff = 0.5
    var lastHeartbeat = -Double.infinity
    var lastHeard = 0.0
    var task: LocalTask?
    var pending: Pending?
    var summary = Summary(outcome: .interrupted, tasks: 0, updatesAcknowledged: 0, lastVersion: 0)
    var nextSequence: UInt64
    let started = ContinuousClock.now

    /// The assignment being trained.
    struct LocalTask {
        var assignment: AssignmentMessage
        var base: [Float]
        var trainer: LocalTrainer
        var stepsDone = 0
        var startedAt: Double
        var timePerStep: Double
        var progress = Trainer.Progress()
    }

    /// Plain local SGD, or record-level DP-SGD.
    enum LocalTrainer {
        case plain(Trainer)
        case `private`(PrivateTrainer)

        mutating func train(steps: Int) -> Trainer.Progress {
            switch self {
            case .plain(var trainer):
                let progress = trainer.train(steps: steps)
                self = .plain(trainer)
                return progress
            case .private(var trainer):
                let progress = trainer.train(steps: steps)
                self = .private(trainer)
                return progress
            }
        }
    }

    /// DP-SGD steps this client's records have been used in, across tasks.
    var privateSteps = 0
    var recordEpsilon: Double?

    /// A finished update not yet acknowledged.
    struct Pending {
        var message: UpdateMessage
        /// When it was sent; nil while it waits for an upload slot.
        var sentAt: Double?
    }

    /// Asks the server for an upload slot (it answers with a grant when one is free).
    func requestUploadSlot() {
        send(.heartbeat(HeartbeatMessage(modelVersion: UInt64(summary.lastVersion), state: .updateReady)))
        lastHeartbeat = now
    }

    public init(settings: Settings, data: Dataset, stop: StopFlag, logger: Logger) throws {
        guard data.count > 0 else {
            throw RuntimeError(.dataUnavailable, "client \(settings.name) has no training data")
        }
        guard !settings.name.isEmpty, settings.name.utf8.count <= 200 else {
            throw RuntimeError(.invalidConfiguration, "client name must have 1 to 200 bytes")
        }
        self.settings = settings
        self.data = data
        self.stop = stop
        self.logger = logger
        speed = settings.speed
        network = settings.architecture.makeNetwork(input: data.shape, classCount: data.classCount, seed: settings.seed)
        fingerprint = settings.architecture.fingerprint(input: data.shape, classCount: data.classCount)
        // Unique across restarts of this client, so the server's de-duplication never
        // mistakes a new update for a retried one.
        nextSequence = UInt64(Date().timeIntervalSince1970 * 1000) << 16
    }

    var now: Double {
        let elapsed = ContinuousClock.now - started
        return elapsed.inSeconds
    }

    /// Runs until the server ends the run, or `stop` is raised.
    public func run() throws -> Summary {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context: context, type: .dealer)
        self.socket = socket
        defer { socket.close() }
        try socket.setOptions([
            .linger(milliseconds: 1000), .sendHighWaterMark(4), .receiveHighWaterMark(4),
            .reconnectInterval(milliseconds: 250), .reconnectIntervalMax(milliseconds: 4000),
            .heartbeatInterval(milliseconds: 2000), .heartbeatTimeout(milliseconds: 10000),
        ])
        if let curve = settings.curve {
            // The server knows this client by its key; the routing id is left to libzmq.
            try socket.setOptions([
                .curveServerKey(curve.serverKey), .curvePublicKey(curve.pair.publicKey),
                .curveSecretKey(curve.pair.secretKey),
            ])
        } else {
            try socket.setOption(.routingID(Array(settings.name.utf8)))
        }
        monitor = try ZMQMonitor(socket, name: "client")
        defer { monitor = nil }
        try socket.connect(to: settings.server)
        logger.info(
            "connecting",
            metadata: [
                "server": "\(settings.server)", "samples": "\(data.count)",
                "security": "\(settings.curve.map { "CURVE, public key \($0.pair.publicKey.z85)" } ?? "none")",
            ])
        while !stop.isRaised {
            if !joined && now - lastJoinSent >= joinBackoff {
                sendJoin()
            }
            if let pending, pending.sentAt != nil, now - pending.sentAt! >= settings.ackTimeout {
                logger.info(
                    "no ack, asking to send the update again", metadata: ["update": "\(pending.message.updateID)"])
                self.pending?.sentAt = nil
            }
            if joined && now - lastHeartbeat >= settings.heartbeatInterval {
                // While an update waits for an upload slot, every heartbeat asks for one.
                let state: HeartbeatMessage.State =
                    pending != nil && pending?.sentAt == nil ? .updateReady : (task == nil ? .idle : .training)
                send(.heartbeat(HeartbeatMessage(modelVersion: UInt64(summary.lastVersion), state: state)))
                lastHeartbeat = now
            }
            let timeout = task == nil ? 200 : trainChunkDelay()
            if try receive(waitingMilliseconds: timeout) { return summary }
            if task != nil, try trainChunk() { return summary }
        }
        send(.bye(ByeMessage(reason: .shutdown, text: "client stopping")))
        summary.outcome = .interrupted
        return summary
    }

    // MARK: - Messages

    func sendJoin() {
        let histogram = data.classHistogram().map { UInt32(clamping: $0) }
        send(
            .join(
                JoinMessage(
                    clientName: settings.name, sampleCount: UInt64(data.count), modelFingerprint: fingerprint,
                    lastModelVersion: UInt64(summary.lastVersion), classHistogram: histogram)))
        lastJoinSent = now
        joinBackoff = min(joinBackoff * 2, 8)
    }

    func send(_ message: WireMessage) {
        do {
            try socket.send(WireCodec.encode(message), blocking: false)
        } catch {
            // Not connected yet or the queue is full: join and updates are retried on a timer.
            logger.debug("send failed: \(error)")
        }
    }

    /// Handles what has arrived, waiting up to `milliseconds` for the first message.
    /// Returns true when the run is over for this client.
    func receive(waitingMilliseconds milliseconds: Int) throws -> Bool {
        var wait = milliseconds
        while true {
            var requests: [(socket: ZMQSocket, events: ZMQPollEvents)] = [(socket, .readable)]
            if let monitor { requests.append((monitor.socket, .readable)) }
            let events = try ZMQPoller.poll(requests, timeoutMilliseconds: wait)
            if events.count > 1, events[1].contains(.readable) { try readHandshakeEvents() }
            guard events.first?.contains(.readable) == true else { return false }
            wait = 0
            let frames = try socket.receiveMessage(blocking: false)
            lastHeard = now
            let message: WireMessage
            do {
                message = try WireCodec.decode(
                    frames, options: WireDecodingOptions(expectedPayloadCount: network.parameterCount))
            } catch {
                logger.warning("ignored a malformed message from the server: \(error)")
                continue
            }
            if try handle(message) { return true }
        }
    }

    /// A refused key ends the client; other handshake failures are retried by libzmq and
    /// reported every 10 s.
    func readHandshakeEvents() throws {
        while let event = monitor?.next() {
            switch event.kind {
            case .handshakeFailedAuthentication:
                logger.error("the server refused this client's key: it is not on the server's allow-list")
                throw RuntimeError(
                    .rejected,
                    "the server refused this client's key (\(settings.curve?.pair.publicKey.z85 ?? "")): ask its operator to add this client's .pub file to the allow-list"
                )
            case .handshakeFailedProtocol where settings.curve == nil:
                logger.error("the server requires CURVE, and this client has no keys")
                throw RuntimeError(
                    .rejected,
                    "the server at \(settings.server) requires CURVE encryption: set security.server_public_key and security.client_key (or --key); see docs/deployment.md"
                )
            case .handshakeFailedProtocol, .handshakeFailedNoDetail:
                if now - lastHandshakeWarning >= 10 {
                    lastHandshakeWarning = now
                    logger.warning(
                        "the CURVE handshake with the server failed: is security.server_public_key the server's key? retrying"
                    )
                }
            default:
                break
            }
        }
    }

    func handle(_ message: WireMessage) throws -> Bool {
        switch message {
        case .assignment(let assignment):
            joined = true
            joinBackoff = 0.5
            if let pending, pending.message.baseVersion == assignment.modelVersion {
                // The server lost this task's update (it restarted before acknowledging it):
                // offer the finished work again instead of training the same task twice.
                self.pending?.sentAt = nil
                requestUploadSlot()
                return false
            }
            try start(assignment)
            if pending != nil {
                self.pending?.sentAt = nil
                requestUploadSlot()
            }
        case .heartbeat(let heartbeat):
            if heartbeat.state == .updateReady {
                // The server granted an upload slot.
                if let pending, pending.sentAt == nil {
                    send(.update(pending.message))
                    self.pending?.sentAt = now
                }
                return false
            }
            if !joined, pending != nil {
                self.pending?.sentAt = nil
                joined = true
                requestUploadSlot()
            }
            joined = true
            joinBackoff = 0.5
            summary.lastVersion = max(summary.lastVersion, Int(heartbeat.modelVersion))
        case .ack(let ack):
            if pending?.message.updateID == ack.updateID {
                pending = nil
                summary.updatesAcknowledged += 1
                logger.info(
                    "update acknowledged",
                    metadata: ["update": "\(ack.updateID)", "server version": "\(ack.acceptedVersion)"])
            }
        case .error(let error):
            switch error.code {
            case .notJoined:
                if joined { logger.info("the server does not know this client (it restarted?): joining again") }
                joined = false
                joinBackoff = 0.5
                lastJoinSent = -Double.infinity
            case .fingerprintMismatch, .rejected:
                logger.error("the server rejected this client: \(error.text)")
                throw RuntimeError(.rejected, "rejected by the server: \(error.text)")
            default:
                logger.warning("server error \(error.code): \(error.text)")
                if let pending, [.nonFinite, .normTooLarge, .wrongPayloadSize, .unsolicited, .tooStale].contains(error.code) {
                    logger.error("the server refused update \(pending.message.updateID); dropping it")
                    self.pending = nil
                }
            }
        case .bye(let bye):
            logger.info("server said goodbye: \(bye.reason) \(bye.text)")
            summary.outcome = bye.reason == .done ? .done : .serverStopped
            return true
        case .join, .update:
            logger.warning("ignored a client-to-server message from the server")
        }
        return false
    }
}
