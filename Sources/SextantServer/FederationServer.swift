import Foundation
import Logging
import SextantAggregation
import SextantML
import SextantRuntime
import SextantScheduling
import SextantStore
import SextantWire

/// The server daemon's core: binds a ROUTER, admits clients, feeds its scheduler with
/// events and performs the actions it returns, checkpointing every aggregation.
///
/// An actor on a thread of its own (``ThreadExecutor``): messages, timers and liveness
/// checks are handled one at a time by synchronous handlers, so the compiler enforces the
/// single serial order the scheduler's rules assume, and the blocking parts of a handler
/// (the evaluation) never block the cooperative pool. Its writes (updates, checkpoints)
/// go to a ``DurableWriter`` on a thread of its own, and its messages leave through an
/// ``OutboundGate`` once the writes before them are durable: the next update is taken
/// while the previous one is synced. Every update goes through one ``AggregationCore``
/// (docs/design.md 3).
package actor FederationServer {
    package struct Summary: Sendable {
        package var run: String
        package var version: Int
        package var accuracy: Double?
        package var status: Run.Status
        package var resumedFrom: Int?
        /// The process's peak resident memory, in bytes.
        package var peakMemory: Int
        /// Client-level epsilon spent (nil without client-level DP).
        package var epsilon: Double?
    }

    let configuration: FederationConfiguration
    let configurationText: String
    let logger: Logger
    let store: CheckpointStore
    let runID: String
    let model: ModelSection
    let fingerprint: String
    let network: Network
    /// The server's own test set, if the data has one (sites' own data has none).
    let testSet: Dataset?
    /// The preprocessing the sites agreed on (sites' own data), stored in the run, and the
    /// rules that check a late site's statistics against it.
    let preprocessing: FeaturePipeline?
    let preprocessingRules: (any PreprocessingRules)?

    /// The scheduler, the model, the accumulator, the server optimizer, the pending deltas
    /// and client-level DP: the whole path of an update, checkpointed with each aggregation.
    var core: AggregationCore
    var lastEpsilon: Double?
    /// Record-level DP-SGD accounting of every client's records (nil without it).
    var recordLevel: RecordLevelLedger?
    var clients: [String: ConnectedClient] = [:] {
        didSet { metrics.clientsConnected(clients.count) }
    }
    let metrics: ServerMetrics
    /// The sleeping tasks behind armed timers, by id; a fire they deliver late is recognised
    /// as stale by the core.
    var timers: [TimerID: Task<Void, Never>] = [:]
    var uploadSlots: UploadSlots
    var lastAccuracy: Double?
    /// The version `lastAccuracy` belongs to.
    var lastAccuracyVersion = 0
    /// Federated evaluations waiting for sites' summaries, by version.
    var evaluations: [Int: FederatedEvaluationRound] = [:]
    /// The federated evaluations requested during the current event, sent at its end.
    var evaluationRequests: [EvaluateMessage] = []
    var lastFederatedEvaluation: ServerStatus.FederatedEvaluation?
    /// Set when the last version waits for its federated evaluation before the run completes.
    var awaitingFinalEvaluation = false
    var resumedFrom: Int?
    /// Versions set aside as damaged at resume: updates trained on them are kept as discarded.
    var skippedVersions: ClosedRange<Int>?
    var finalStatus: Run.Status?
    var farewell: Farewell?
    /// The bound socket from ``init``; ``run()`` takes it over.
    private var listener: ServerListener?
    var socket: SocketThread?
    let started = ContinuousClock.now
    /// CURVE: the server's key pair and the clients it admits (nil: plain TCP).
    let curvePair: CurveKeyPair?
    var allowList: AllowList?
    var authenticator: ZAPHandler?
    var messageLimiter: RateLimiter
    var joinLimiter: RateLimiter
    /// Messages dropped by the rate limits since the last warning about them.
    var rateLimited = RateLimitReport()
    /// Peers already told that they speak another protocol version (logged once each).
    var versionRefusals = VersionRefusals()

    /// Makes the server's writes durable in order, off this thread (docs/design.md 3).
    let writer: DurableWriter
    /// Evaluates each new model on the test set, off this thread (nil without a test set).
    let evaluator: ServerEvaluator?
    /// The ticket of the last job handed to the writer (0: none).
    var lastTicket: UInt64 = 0
    /// The socket behind a gate: messages leave once the writes sent before them are
    /// durable, released by the writer's thread.
    let sender: GatedSender
    /// The id the next stored update gets (the server chooses it, so that the core sees
    /// the update before its row commits).
    var nextUpdateID: Int64
    /// Updates handed to the writer and not yet reported durable, by client and sequence,
    /// with their tickets: a retry of one of them is acknowledged, not stored again.
    var unsyncedUpdates: [UpdateKey: UInt64] = [:]
    /// Aggregations whose checkpoint is handed to the writer, oldest first.
    var pendingCommits: [PendingCommit] = []
    /// Test-set evaluations running, by version, not yet handed to the writer.
    var evaluationsInFlight: [Int: EvaluationInFlight] = [:]
    /// From this many evaluations in flight, a checkpoint's commit waits for its own
    /// (docs/design.md 3): each queued evaluation holds a copy of the model.
    static let evaluationsAhead = 2
    /// Evaluations handed to the writer, in order, not yet durable.
    var evaluationRecords: [PendingEvaluationRecord] = []
    /// The newest version whose checkpoint is durable.
    var durableVersion: Int
    /// Set once a critical write failed: the run stops, nothing more is acknowledged.
    var hasWriteFailed = false
    /// Secure aggregation's open cohorts and counts (docs/design.md 13); nil when it is off.
    var secureCohorts: SecureCohorts?
    /// Follows the writer's reports (started by ``run()``).
    private var writerReports: Task<Void, Never>?

    /// A client the server has admitted.
    struct ConnectedClient {
        var routingID: [UInt8]
        var samples: Int
        var lastSeen: Double
        var peer: String?
        /// Local steps of its latest task, for ``status()``.
        var assignedSteps: Int?
    }

    private let executor: ThreadExecutor

    package nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// Binds `server.bind`, then opens the checkpoint database and either starts a new run
    /// or resumes the one it holds: a bind that fails leaves nothing on disk. Without CURVE
    /// keys it binds loopback addresses only, unless `insecure`.
    /// - Parameter metrics: where counters go; the process's bootstrapped metrics factory by default.
    package init(
        configuration: FederationConfiguration, configurationText: String, logger: Logger, insecure: Bool = false,
        metrics: ServerMetrics = ServerMetrics(), preprocessing: FeaturePipeline? = nil,
        preprocessingRules: (any PreprocessingRules)? = nil
    ) async throws {
        try configuration.validate()
        executor = ThreadExecutor(name: "sextant-server")
        self.metrics = metrics
        let keys = try Self.serverKeys(configuration: configuration, insecure: insecure, logger: logger)
        curvePair = keys?.pair
        allowList = keys?.allowList
        messageLimiter = RateLimiter(
            perSecond: configuration.server.maxMessagesPerSecond,
            burst: max(1, 2 * configuration.server.maxMessagesPerSecond))
        // A client re-sends its join with backoff (0.5, 1, 2, 4 s) until answered: allow a
        // few in a row even at low rates.
        joinLimiter = RateLimiter(
            perSecond: configuration.server.maxJoinsPerMinute / 60,
            burst: max(5, configuration.server.maxJoinsPerMinute / 2))
        self.configuration = configuration
        self.configurationText = configurationText
        self.logger = logger
        model = configuration.model
        self.preprocessing = preprocessing
        self.preprocessingRules = preprocessingRules
        let input: FeatureShape
        let classCount: Int
        if let preprocessing {
            testSet = nil
            (input, classCount) = (preprocessing.inputShape, preprocessing.target.classes.count)
        } else {
            let testSet = try FederationData.loadTestSet(configuration.data)
            self.testSet = testSet
            (input, classCount) = (testSet.shape, testSet.classCount)
        }
        let built = try model.makeNetwork(input: input, classCount: classCount, seed: configuration.run.seed)
        network = built
        fingerprint = try model.fingerprint(input: input, classCount: classCount)
        // Checked before the database is opened: refused weights leave nothing behind.
        let warmStart = try configuration.model.initialWeights.map { try Self.initialWeights($0, for: built) }
        // Bound before the database exists; should opening it fail, the socket closes as it is released.
        listener = try await ServerListener.bind(
            configuration.server.bind, maxMessageSize: Int64(network.parameterCount) * 4 + 1 << 20,
            curve: keys, logger: logger)
        do {
            store = try CheckpointStore(
                path: configuration.server.database, logger: logger, fileThreshold: configuration.server.fileThreshold)
            // Files whose rows never committed before a crash (docs/design.md 6).
            try store.removeOrphanBlobs()
        } catch let error as StoreError {
            throw RuntimeError(.storage, error.message)
        }
        uploadSlots = UploadSlots(capacity: configuration.server.maxConcurrentUploads)
        recordLevel = configuration.privacy.isRecordLevel ? RecordLevelLedger(federation: configuration) : nil

        let previous = try store.latestRun()
        // A completed run continues when the configuration allows more versions than it reached.
        var continues = false
        if let previous, previous.status == .completed {
            let reached = try store.latestCheckpoint(run: previous.id)?.version ?? Int.max
            continues = reached < configuration.stop.maxVersions
        }
        if let previous, previous.status != .completed || continues {
            guard previous.fingerprint == fingerprint else {
                throw RuntimeError(
                    .invalidConfiguration,
                    "\(configuration.server.database) holds run '\(previous.id)' of model \(previous.fingerprint), but the configuration trains \(fingerprint); use another database"
                )
            }
            // The newest checkpoint that passes its SHA-256; damaged newer ones are set aside with the updates
            // and scheduler state that depend on them (docs/design.md 10).
            let resumption = try store.resume(
                run: previous.id,
                discardingState: [
                    AggregationCore.schedulerKey, AggregationCore.velocityKey, AggregationCore.momentsKey,
                ])
            guard let checkpoint = resumption.checkpoint else {
                throw RuntimeError(
                    .storage,
                    "run '\(previous.id)' has no sound checkpoint to resume from; run sextant checkpoints verify")
            }
            if let newest = resumption.skipped.first?.version { skippedVersions = (checkpoint.version + 1)...newest }
            if !resumption.skipped.isEmpty {
                let damaged = resumption.skipped.map { "\($0.run)@\($0.version): \($0.issues.joined(separator: "; "))" }
                logger.critical(
                    "resuming run '\(previous.id)' from version \(checkpoint.version), skipping damaged checkpoints [\(damaged.joined(separator: ", "))]; \(resumption.discardedPending) pending updates trained on them discarded, \(resumption.lostApplied) updates applied only in them lost"
                )
            }
            runID = previous.id
            let state = try store.schedulerState(run: runID)
            let stored = state[Self.preprocessingKey]
            let expected = try preprocessing.map { Data(try AgreementPhase.encode($0)) }
            guard stored == expected else {
                throw RuntimeError(
                    .invalidConfiguration,
                    "run '\(previous.id)' was started with \(stored == nil ? "no" : "another") agreed preprocessing than this start has; use another database"
                )
            }
            // Masked inputs must never be replayed as deltas, nor deltas dropped as masked inputs.
            let secure = configuration.privacy.secureAggregation.enabled
            guard (state[Self.secureAggregationKey] != nil) == secure else {
                throw RuntimeError(
                    .invalidConfiguration,
                    "run '\(previous.id)' was started \(secure ? "without" : "with") secure aggregation and this start has it \(secure ? "on" : "off"); a run cannot switch it: use another database"
                )
            }
            let scheduler: any Scheduler
            if let snapshot = state[AggregationCore.schedulerKey] {
                scheduler = try configuration.scheduler.restoreScheduler(from: [UInt8](snapshot))
            } else {
                scheduler = try configuration.scheduler.makeScheduler(
                    seed: configuration.run.seed, version: checkpoint.version,
                    fixedDenominator: configuration.privacy.fixedDenominator(configuration),
                    secureAggregation: configuration.privacy.secureAggregation.enabled)
            }
            guard scheduler.version == checkpoint.version else {
                throw RuntimeError(
                    .storage,
                    "scheduler state is at version \(scheduler.version) but the last checkpoint is \(checkpoint.version)"
                )
            }
            let velocity: [Float]
            let moments: [Float]
            do {
                velocity = try AggregationCore.velocity(in: state, parameterCount: network.parameterCount)
                moments = try AggregationCore.moments(in: state, parameterCount: network.parameterCount)
            } catch {
                throw RuntimeError(.storage, error.message)
            }
            var privacy: ClientLevelPrivacy?
            if configuration.privacy.isClientLevel {
                if let saved = state[AggregationCore.privacyKey] {
                    privacy = try JSONDecoder().decode(ClientLevelPrivacy.self, from: saved)
                } else {
                    privacy = try ClientLevelPrivacy(
                        configuration: configuration.privacy.makeClientLevelConfiguration(federation: configuration),
                        version: checkpoint.version)
                }
            }
            let tasks: [ClientID: AggregationCore.AssignedTask]
            do {
                tasks = try AggregationCore.tasks(in: state)
            } catch {
                throw RuntimeError(.storage, error.message)
            }
            core = AggregationCore(
                scheduler: scheduler, model: checkpoint.parameters, velocity: velocity,
                adaptive: try configuration.server.adaptiveOptimizer, moments: moments, privacy: privacy,
                resumedTasks: tasks, robust: try configuration.server.robust)
            lastEpsilon = checkpoint.epsilon
            if recordLevel != nil {
                for update in try store.updates(run: runID) where update.state != .discarded {
                    recordLevel?.record(client: update.client, steps: update.steps, samples: update.samples)
                }
            }
            resumedFrom = checkpoint.version
            lastAccuracy = checkpoint.metrics["accuracy"]
            lastAccuracyVersion = checkpoint.version
            try store.markRun(id: runID, status: .running)
        } else {
            if let previous {
                let reached = try store.latestCheckpoint(run: previous.id)?.version
                throw RuntimeError(
                    .invalidConfiguration,
                    "\(configuration.server.database) holds run '\(previous.id)', which has completed\(reached.map { " at version \($0): raise stop.max_versions above \($0) to continue it, or" } ?? ";") start a new run with another database"
                )
            }
            runID = "\(configuration.run.name)-\(Int(Date().timeIntervalSince1970))"
            if let warmStart, let path = configuration.model.initialWeights {
                built.loadParameters(warmStart)
                let message: Logger.Message = "warm start from \(path) (\(fingerprint))"
                logger.info(message)
            }
            let model = built.parameterVector()
            let scheduler = try configuration.scheduler.makeScheduler(
                seed: configuration.run.seed, fixedDenominator: configuration.privacy.fixedDenominator(configuration),
                secureAggregation: configuration.privacy.secureAggregation.enabled)
            var privacy: ClientLevelPrivacy?
            if configuration.privacy.isClientLevel {
                privacy = try ClientLevelPrivacy(
                    configuration: configuration.privacy.makeClientLevelConfiguration(federation: configuration))
            }
            core = AggregationCore(
                scheduler: scheduler, model: model, adaptive: try configuration.server.adaptiveOptimizer,
                privacy: privacy, robust: try configuration.server.robust)
            try store.startRun(id: runID, config: configurationText, fingerprint: fingerprint, initialParameters: model)
            var state = try core.snapshot()
            if let preprocessing { state[Self.preprocessingKey] = Data(try AgreementPhase.encode(preprocessing)) }
            if configuration.privacy.secureAggregation.enabled {
                state[Self.secureAggregationKey] = Data("masked".utf8)
            }
            try store.saveSchedulerState(run: runID, state: state)
        }
        core.maxStaleness = configuration.server.maxStaleness > 0 ? configuration.server.maxStaleness : nil
        if configuration.privacy.secureAggregation.enabled {
            var secure = SecureCohorts(
                section: configuration.privacy.secureAggregation,
                sequence: UInt32(truncatingIfNeeded: Int(Date().timeIntervalSince1970)))
            // Distributed DP's account goes on from the one committed with the last checkpoint.
            if let saved = try store.schedulerState(run: runID)[Self.distributedPrivacyKey] {
                do {
                    try secure.restoreAccount(from: saved)
                } catch {
                    throw RuntimeError(.storage, "the saved distributed DP account cannot be read: \(error)")
                }
            }
            secureCohorts = secure
            // Compass's arrival groups become cohorts when they close (docs/design.md 13).
            core.formsCohortsAtAggregation = core.scheduler is CompassScheduler
            lastEpsilon = secure.epsilon(delta: configuration.privacy.delta) ?? lastEpsilon
        }
        nextUpdateID = try store.nextUpdateID()
        durableVersion = core.version
        let sender = GatedSender()
        self.sender = sender
        writer = DurableWriter(store: store, logger: logger) { sender.durable(through: $0) }
        // Its own network, so that evaluating never touches one this thread uses.
        if let testSet {
            let network = try configuration.model.makeNetwork(
                input: input, classCount: classCount, seed: configuration.run.seed)
            evaluator = ServerEvaluator(network: network, testSet: testSet)
        } else {
            evaluator = nil
        }
    }

    /// The server's CURVE keys and allow-list, or nil in plain TCP, which is refused on a
    /// non-loopback address unless `insecure` (then logged loudly).
    static func serverKeys(configuration: FederationConfiguration, insecure: Bool, logger: Logger) throws -> (
        pair: CurveKeyPair, allowList: AllowList
    )? {
        let keys = try configuration.security.loadServerKeys()
        if keys == nil, !configuration.server.bindsLoopbackOnly {
            guard insecure else {
                throw RuntimeError(
                    .invalidConfiguration,
                    "server.bind \(configuration.server.bind) is reachable from other hosts, but security.server_secret_key is not set: anyone could join and read the model. Set up CURVE keys (sextant keygen; docs/deployment.md) or start with --insecure on a network you trust"
                )
            }
            logger.critical(
                "INSECURE: serving on \(configuration.server.bind) without encryption or authentication (--insecure): anyone who can reach this address can join, send updates and read the model"
            )
        }
        return keys
    }

    /// The run-state key of the agreed preprocessing (JSON of ``FeaturePipeline``).
    package static let preprocessingKey = RunModel.preprocessingKey
    /// The run-state key present when the run's updates are masked inputs (docs/design.md 13).
    package static let secureAggregationKey = "secure-aggregation"
    /// The run-state key of distributed DP's RDP curve (JSON), committed with each checkpoint.
    package static let distributedPrivacyKey = "secure-aggregation-rdp"

    /// Seconds since this process started: the scheduler's clock.
    var now: Double {
        let elapsed = ContinuousClock.now - started
        return elapsed.inSeconds
    }

    var version: Int { core.version }

    /// Serves until the stopping rule is met or ``stop()`` is called.
    package func run() async throws -> Summary {
        guard let listener else { throw RuntimeError(.network, "the server's socket is already closed") }
        self.listener = nil
        let context = listener.context
        let socket = listener.socket
        authenticator = listener.authenticator
        self.socket = socket
        sender.attach(socket)
        writerReports = Task { [weak self, reports = writer.reports] in
            for await report in reports { await self?.writesReported(report) }
        }
        logger.info(
            "serving",
            metadata: [
                "run": "\(runID)", "bind": "\(socket.boundEndpoints.joined(separator: ","))",
                "model": "\(fingerprint)", "version": "\(version)",
                "resumed": "\(resumedFrom.map(String.init) ?? "no")",
                "security":
                    "\(curvePair.map { "CURVE, server key \($0.publicKey.z85), \(allowList?.count ?? 0) clients allowed" } ?? "none")",
                "secure_aggregation":
                    "\(secureCohorts.map { "on, \($0.section.bits)-bit ring, clip norm \($0.section.clipNorm ?? 0)" } ?? "off")",
            ])
        metrics.started(version: version, accuracy: lastAccuracy, epsilon: lastEpsilon)
        if let resumedFrom {
            // Its evaluation was not yet recorded when the server stopped: evaluate it again.
            if lastAccuracy == nil, resumedFrom > 0, let pending = startEvaluation(core.model, version: resumedFrom) {
                evaluationsInFlight[resumedFrom] = EvaluationInFlight(pending: pending, commit: nil)
            }
            try replayPendingUpdates()
            perform { try core.resume(now: now) }
        }
        startLivenessChecks()
        if finalStatus == nil { checkStoppingRule() }
        // Stopped before it served (a SIGTERM during start-up) or finished at once: no loop.
        if finalStatus == nil || farewell != nil {
            for await frames in socket.messages {
                handle(frames)
                if finalStatus != nil && farewell == nil { break }
            }
        }
        await shutdown()
        // Until libzmq has sent the goodbyes, exiting would drop them.
        await context.terminate(timeout: .seconds(6))
        return Summary(
            run: runID, version: version, accuracy: lastAccuracy, status: finalStatus ?? .stopped,
            resumedFrom: resumedFrom, peakMemory: ProcessUsage.now().peakMemory, epsilon: lastEpsilon)
    }

    /// Stops serving (SIGTERM/SIGINT): tells clients, marks the run stopped, returns from ``run()``.
    package func stop() {
        guard finalStatus == nil else { return }
        logger.notice("stopping on request", metadata: ["version": "\(version)"])
        finish(.stopped)
    }

    func finish(_ status: Run.Status) {
        guard finalStatus == nil else { return }
        finalStatus = status
        let reason: ByeMessage.Reason = status == .completed ? .done : .shutdown
        // A failed server says nothing, as a crashed one: its clients keep reconnecting and
        // carry on with the server started again once the failure is fixed.
        for client in clients.values where status != .failed {
            send(
                .bye(ByeMessage(reason: reason, text: status == .completed ? "training finished" : "server stopping")),
                to: client.routingID)
        }
        // The run's status follows everything it wrote, the last evaluations included; held
        // messages (the goodbyes) leave.
        recordEvaluationsInFlight()
        flushWrites()
        do {
            try store.markRun(id: runID, status: status)
        } catch {
            logger.error("could not mark the run \(status.rawValue): \(error)")
        }
        if status == .completed && beginFarewell() { return }
        // End the message loop even if no further message arrives.
        if let socket {
            Task { await socket.shutdown() }
        }
    }

    private func shutdown() async {
        if !hasWriteFailed { recordEvaluationsInFlight() }
        flushWrites()
        writer.stop()
        scrubAppliedDeltas()
        evaluator?.stop()
        writerReports?.cancel()
        timers.values.forEach { $0.cancel() }
        timers = [:]
        // Give the goodbyes a moment to leave before the socket closes.
        try? await Task.sleep(for: .milliseconds(200))
        await socket?.shutdown()
        socket = nil
        sender.attach(nil)
        authenticator?.stop()
        authenticator = nil
    }

    /// Zeroes the database's free pages and removes or zeroes what the delta segments hold
    /// of applied updates, once the writer is done, so that what the run leaves holds no
    /// delta of an update it applied (docs/design.md 6); a failure is logged, the run's
    /// outcome stands.
    private func scrubAppliedDeltas() {
        guard !hasWriteFailed else { return }
        do {
            let pages = try store.scrubFreePages()
            let bytes = try store.scrubSegments()
            logger.debug(
                "zeroed the database's free pages and the delta segments' applied records",
                metadata: ["pages": "\(pages)", "segment bytes": "\(bytes)"])
        } catch {
            logger.warning("could not zero what the run's applied deltas left: \(error)")
        }
    }

    private func startLivenessChecks() {
        let timeout = configuration.server.clientTimeout
        timers["liveness"] = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(min(1, timeout / 4)))
                await self?.checkLiveness()
            }
        }
    }

    func checkLiveness() {
        let deadline = now - configuration.server.clientTimeout
        // A grant not used within the ack timeout of a client is taken back.
        for name in uploadSlots.expired(before: now - 30) {
            releaseUploadSlot(of: name)
        }
        for (name, client) in clients where client.lastSeen < deadline {
            logger.warning("client silent, counting it as lost", metadata: ["client": "\(name)"])
            dropClient(name)
        }
        checkStoppingRule()
    }

    /// Forgets a client (it left, fell silent or lost its place on the allow-list): frees
    /// its upload slot and tells the scheduler. Returns the client if it was connected.
    @discardableResult
    func dropClient(_ name: String) -> ConnectedClient? {
        let removed = clients.removeValue(forKey: name)
        releaseUploadSlot(of: name)
        guard removed != nil else { return nil }
        stopWaitingForEvaluations(of: name)
        cohortMemberLost(name)
        perform { try core.clientLost(name, now: now) }
        return removed
    }

    func checkStoppingRule() {
        guard finalStatus == nil else { return }
        let stop = configuration.stop
        if version >= stop.maxVersions {
            // The last version's federated evaluation is the run's result: wait for it.
            if evaluations[version] != nil { return awaitFinalEvaluation() }
            logger.notice("reached the last version", metadata: ["version": "\(version)"])
            finish(.completed)
        } else if stop.targetAccuracy > 0, let accuracy = lastAccuracy, accuracy >= stop.targetAccuracy {
            logger.notice(
                "reached the target accuracy", metadata: ["accuracy": "\(accuracy)", "version": "\(version)"])
            finish(.completed)
        } else if stop.maxSeconds > 0, now >= stop.maxSeconds {
            logger.notice("reached the time limit", metadata: ["seconds": "\(stop.maxSeconds)"])
            finish(.completed)
        }
    }
}
