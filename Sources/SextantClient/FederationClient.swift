import Foundation
import Logging
import SextantML
import SextantPrivacy
import SextantRuntime
import SextantWire

/// One client: connects to the server, joins, trains each assignment on its own data and
/// sends back the delta, until the server says the run is done.
///
/// The protocol's decisions are a ``ClientSession``'s (docs/design.md section 4); this is
/// its driver, which owns the DEALER socket, the clock and the trainer, feeds the session
/// their events and carries out its actions. It runs on the calling thread (never the
/// cooperative pool): training happens in short chunks between polls, so heartbeats, acks
/// and a new assignment are handled while it trains.
package final class FederationClient {
    package struct Settings: Sendable {
        package var server: String
        package var name: String
        package var model: ModelSpec
        /// The local optimizer, `training.optimizer`: sgd or adam, created afresh for every
        /// task (its momentum or moments start from zero on each new global model).
        package var optimizer = "sgd"
        package var momentum: Double
        package var weightDecay: Double
        package var speed: SpeedModel
        package var heartbeatInterval: Double = 2
        /// Seconds to wait for an ack before sending an update again.
        package var ackTimeout: Double = 15
        package var seed: UInt64
        /// Record-level DP-SGD for local training (nil: plain SGD).
        package var recordLevel: PrivacySection.RecordLevelPlan?
        /// The file where the client keeps its DP-SGD step count, so that a restarted
        /// client goes on from what its records have spent (nil: kept in memory only).
        package var privacyLedger: URL?
        /// The run the ledger's count belongs to (`run.name`).
        package var runName = ""
        /// CURVE keys; nil connects in plain TCP.
        package var curve: ClientCurve?
        /// The share of the data held out for federated evaluation (0: none).
        package var validationFraction = 0.0
        /// The seed of the validation split (``FederationData/validationSeed(_:index:)``, as
        /// `sextant train` draws it).
        package var validationSeed: UInt64 = 0
        /// Secure aggregation (nil: off): updates leave masked, in cohorts (docs/design.md 13).
        package var secureAggregation: SecureAggregationSection?

        package init(
            server: String, name: String, model: ModelSpec, momentum: Double, weightDecay: Double,
            speed: SpeedModel, seed: UInt64
        ) {
            self.server = server
            self.name = name
            self.model = model
            self.momentum = momentum
            self.weightDecay = weightDecay
            self.speed = speed
            self.seed = seed
        }
    }

    package struct Summary: Sendable, Equatable {
        package var outcome: Outcome
        package var tasks: Int
        package var updatesAcknowledged: Int
        package var lastVersion: Int
    }

    package enum Outcome: Sendable, Equatable {
        case done, serverStopped, interrupted
        /// The client's record-level privacy budget allows no more training: it left the run.
        case privacyBudgetSpent
    }

    let settings: Settings
    let data: Dataset
    let logger: Logger
    let stop: StopFlag
    let network: Network
    /// The records held out of training, on which global models are evaluated.
    let validation: Dataset
    /// A second network for evaluations, so that a task's weights stay as they are.
    lazy var evaluationNetwork: Network = {
        do {
            return try ModelSection(spec: settings.model).makeNetwork(
                input: data.shape, classCount: data.classCount, seed: settings.seed)
        } catch {
            preconditionFailure("the model was built once already: \(error)")
        }
    }()
    let fingerprint: String
    var speed: SpeedModel

    var socket: ZMQSocket!
    /// Handshake events: how a client learns the server refused its key or wants CURVE.
    var monitor: ZMQMonitor?
    var session: ClientSession
    /// Set when the session finished; `run` then returns.
    var outcome: Outcome?
    var task: LocalTask?
    /// The model of the last assignment received, and its version: what an evaluation
    /// request without a model refers to (docs/design.md 4).
    var assignedModel: (version: UInt64, model: FloatPayload)?
    var nextSequence: UInt64
    let started = ContinuousClock.now

    /// The assignment being trained, as the session's task `number`.
    struct LocalTask {
        var number: Int
        /// The assignment, its model (the delta's base) included.
        var assignment: AssignmentMessage
        var trainer: LocalTrainer
        /// The steps this client trains: the assignment's, or fewer when its record-level
        /// budget allows no more.
        var steps: Int
        var stepsDone = 0
        var startedAt: Double
        var timePerStep: Double
        var progress = Trainer.Progress()

        var isTrained: Bool { stepsDone >= steps }
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

    /// This client's side of secure aggregation (nil: off).
    var cohort: CohortParticipant?

    /// DP-SGD steps this client's records have been used in, across tasks.
    var privateSteps = 0
    var recordEpsilon: Double?
    /// With a record-level target ε: the DP-SGD steps this client may take in all
    /// (``PrivacySection/RecordLevelPlan/stepBudget()``); nil: no limit.
    let recordStepBudget: Int?

    package init(settings: Settings, data: Dataset, stop: StopFlag, logger: Logger) throws {
        guard data.count > 0 else {
            throw RuntimeError(.dataUnavailable, "client \(settings.name) has no training data")
        }
        guard !settings.name.isEmpty, settings.name.utf8.count <= 200 else {
            throw RuntimeError(.invalidConfiguration, "client name must have 1 to 200 bytes")
        }
        self.settings = settings
        recordStepBudget = try settings.recordLevel?.stepBudget()
        // The same site always holds out the same records, as `sextant train` does.
        let split = try data.split(validationFraction: settings.validationFraction, seed: settings.validationSeed)
        self.data = split.training
        validation = split.validation
        self.stop = stop
        self.logger = logger
        speed = settings.speed
        network = try ModelSection(spec: settings.model).makeNetwork(
            input: data.shape, classCount: data.classCount, seed: settings.seed)
        fingerprint = try ModelSection(spec: settings.model).fingerprint(
            input: data.shape, classCount: data.classCount)
        let dimension = network.parameterCount
        cohort = settings.secureAggregation.map { CohortParticipant(section: $0, dimension: dimension) }
        let join = JoinMessage(
            clientName: settings.name, sampleCount: UInt64(self.data.count), modelFingerprint: fingerprint,
            lastModelVersion: 0, classHistogram: self.data.classHistogram().map { UInt32(clamping: $0) },
            secureAggregation: cohort != nil)
        session = ClientSession(
            configuration: ClientSession.Configuration(
                join: join, heartbeatInterval: settings.heartbeatInterval, ackTimeout: settings.ackTimeout,
                server: settings.server, curvePublicKey: settings.curve?.pair.publicKey.z85))
        // Unique across restarts of this client, so the server's de-duplication never
        // mistakes a new update for a retried one.
        nextSequence = UInt64(Date().timeIntervalSince1970 * 1000) << 16
        if let plan = settings.recordLevel {
            if plan.unit == .subject { try plan.check(subjects: Set(self.data.subjects ?? []).count) }
            if let ledger = settings.privacyLedger {
                privateSteps = try ClientPrivacyLedger.spentSteps(at: ledger, run: settings.runName, plan: plan)
            }
            if privateSteps > 0 {
                recordEpsilon = try? RDPAccountant.epsilon(
                    noiseMultiplier: plan.noiseMultiplier, sampleRate: plan.sampleRate, steps: privateSteps,
                    delta: plan.delta
                ).epsilon
                logger.notice(
                    "privacy ledger: going on from the DP-SGD steps this client spent before it restarted",
                    metadata: [
                        "steps": "\(privateSteps)", "unit": "\(plan.unit.rawValue)", "run": "\(settings.runName)",
                        "ledger": "\(settings.privacyLedger?.path ?? "")",
                        "epsilon": "\(recordEpsilon.map { String(format: "%.3f", $0) } ?? "none")",
                    ])
            }
        }
    }

    var now: Double {
        let elapsed = ContinuousClock.now - started
        return elapsed.inSeconds
    }

    /// Runs until the server ends the run, or `stop` is raised.
    package func run() throws -> Summary {
        let context = try ZMQContext()
        let socket = try Self.makeSocket(context: context, name: settings.name, curve: settings.curve)
        self.socket = socket
        defer { socket.close() }
        monitor = try ZMQMonitor(socket, name: "client")
        defer { monitor = nil }
        try socket.connect(to: settings.server)
        logger.info(
            "connecting",
            metadata: [
                "server": "\(settings.server)", "samples": "\(data.count)",
                "security": "\(settings.curve.map { "CURVE, public key \($0.pair.publicKey.z85)" } ?? "none")",
            ])
        while outcome == nil {
            try apply(stop.isRaised ? .stopRequested : .tick)
            guard outcome == nil else { break }
            try receive(waitingMilliseconds: task == nil ? 200 : trainChunkDelay())
            guard outcome == nil else { break }
            try trainChunk()
        }
        return session.summary
    }

    /// The DEALER every phase of a client uses: limits, reconnects, heartbeats and its
    /// identity (the CURVE key, or the name as routing id).
    static func makeSocket(context: ZMQContext, name: String, curve: ClientCurve?) throws -> ZMQSocket {
        let socket = try ZMQSocket(context: context, type: .dealer)
        try socket.setOptions([
            .linger(milliseconds: 1000), .sendHighWaterMark(4), .receiveHighWaterMark(4),
            .reconnectInterval(milliseconds: 250), .reconnectIntervalMax(milliseconds: 4000),
            .heartbeatInterval(milliseconds: 2000), .heartbeatTimeout(milliseconds: 10000),
        ])
        if let curve {
            // The server knows this client by its key; the routing id is left to libzmq.
            try socket.setOptions([
                .curveServerKey(curve.serverKey), .curvePublicKey(curve.pair.publicKey),
                .curveSecretKey(curve.pair.secretKey),
            ])
        } else {
            try socket.setOption(.routingID(Array(name.utf8)))
        }
        return socket
    }

    // MARK: - The session's events and actions

    /// Hands `event` to the session and carries out its actions, in order.
    func apply(_ event: ClientSession.Event) throws {
        for action in session.handle(event, now: now) {
            switch action {
            case .send(let message):
                send(message)
            case .train(let number, let assignment):
                try start(assignment, as: number)
            case .dropTask:
                task = nil
            case .evaluate(let request):
                send(.evaluation(evaluate(request)))
            case .finish(let outcome):
                self.outcome = outcome
            case .fail(let error):
                throw error
            case .log(let line):
                logger.log(
                    level: line.level, "\(line.message)", metadata: line.metadata.mapValues { .string($0) })
            }
        }
    }

    func send(_ message: WireMessage) {
        do {
            try socket.send(WireCodec.encode(message), blocking: false)
        } catch {
            // Not connected yet or the queue is full: join and updates are retried on a timer.
            logger.debug("send failed: \(error)")
        }
    }

    /// Handles what has arrived, waiting up to `milliseconds` for the first message, and
    /// stops at a message that ends the session.
    func receive(waitingMilliseconds milliseconds: Int) throws {
        var wait = milliseconds
        while outcome == nil {
            var requests: [(socket: ZMQSocket, events: ZMQPollEvents)] = [(socket, .readable)]
            if let monitor { requests.append((monitor.socket, .readable)) }
            let events = try ZMQPoller.poll(requests, timeoutMilliseconds: wait)
            if events.count > 1, events[1].contains(.readable) { try readHandshakeEvents() }
            guard events.first?.contains(.readable) == true else { return }
            wait = 0
            let frames = try socket.receiveMessage(blocking: false)
            let message: WireMessage
            do {
                message = try WireCodec.decode(
                    frames, options: WireDecodingOptions(expectedPayloadCount: network.parameterCount))
            } catch {
                try apply(.undecodable(error))
                continue
            }
            if case .cohort(let step) = message {
                takePart(step)
                continue
            }
            if case .assignment(let assignment) = message {
                assignedModel = (assignment.modelVersion, assignment.model)
            }
            try apply(.received(message))
        }
    }

    /// Hands the socket's handshake failures to the session: a refused key ends the client,
    /// other failures are retried by libzmq.
    func readHandshakeEvents() throws {
        while let event = monitor?.next() {
            switch event.kind {
            case .handshakeFailedAuthentication: try apply(.handshakeFailed(.authentication))
            case .handshakeFailedProtocol: try apply(.handshakeFailed(.protocolError))
            case .handshakeFailedNoDetail: try apply(.handshakeFailed(.noDetail))
            default: break
            }
        }
    }
}
