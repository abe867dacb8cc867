import Foundation
import SextantBase
import SextantPrivacy
import SextantScheduling

/// The one place where a federation's updates become a model: the scheduler, the global
/// model, the per-bucket accumulator, the server optimizer, the deltas waiting for the
/// scheduler, client-level clipping and noise with their ledger, timer generations and
/// the replay filter. Pure and synchronous: events in, ``CoreEffect``s out, no I/O and no
/// clock of its own. The daemon (`FederationServer`), the virtual-clock simulator, the
/// audit's in-process federation and the tests all drive this type, so the path of a delta
/// is written once (docs/design.md 3).
///
/// Per update id the core keeps at most one pending delta and one ledger entry, from its
/// arrival until the scheduler accumulates or discards it. A received delta is kept as the
/// buffer it arrived in (no copy) unless server-side clipping must rewrite it.
///
/// Replay: after a restart the driver hands the core every acknowledged, unaggregated
/// update again. The core asks the restored scheduler whether its snapshot already holds
/// the update (``Scheduler/heldAccumulation(of:)``); if so it rebuilds the bucket itself
/// and the scheduler never sees that update twice. An update id the core has already
/// delivered is ignored.
///
/// `Sendable`: a value owned by one driver.
package struct AggregationCore: Sendable {
    package private(set) var scheduler: any Scheduler
    /// The global model at ``version``.
    package internal(set) var model: [Float]
    package internal(set) var optimizer: ServerOptimizer
    /// Client-level differential privacy (nil without it).
    package private(set) var privacy: ClientLevelPrivacy?
    /// The last aggregation's privacy account (nil before one, or without client-level DP).
    package private(set) var lastPrivacyOutcome: ClientLevelPrivacy.EventOutcome?
    /// What the scheduler returned for the last event delivered to it (for traces).
    package private(set) var lastSchedulerActions: [SchedulerAction] = []

    var accumulator: DeltaAccumulator
    private var privacyLedger = PrivacyLedger()
    private var pending: [Int64: any DeltaBuffer] = [:]
    var delivered: Set<Int64> = []
    private var armed: [TimerID: (generation: UInt64, at: Double)] = [:]
    private var nextGeneration: UInt64 = 0
    /// The task each client was given last and has not answered: an update must answer one.
    private var tasks: [ClientID: AssignedTask] = [:]
    /// After a restart: tasks given since the last checkpoint were not saved; an update from
    /// a known client based on this version is taken as the answer to such a task (once).
    private var unrecordedTaskVersion: Int?
    private var unrecordedClients: Set<ClientID> = []
    /// Updates more than this many versions old are refused (nil: any age).
    package var maxStaleness: Int?
    /// How an event's updates are combined (``RobustAggregation``).
    package let robust: RobustAggregation
    /// ``RobustAggregation/normBound``'s recent norms.
    package private(set) var normHistory: NormHistory?
    /// Deltas kept whole until their event, by bucket, for the rules that compare updates.
    private var held: [BucketID: [(delta: any DeltaBuffer, weight: Double)]] = [:]
    /// Secure aggregation's cohort sums and the members' updates that stand for them
    /// (``cohortArrived(_:sum:now:)``).
    var cohorts = CohortSums()
    /// Secure aggregation's cohorts formed at aggregation (Compass): announced updates and
    /// the aggregations waiting for their sums (``updateAnnounced(_:now:)``).
    var groupCohorts = GroupCohorts()

    /// A task as the core handed it out: the model version and the steps asked for.
    package struct AssignedTask: Sendable, Codable, Equatable {
        package var version: Int
        package var steps: Int
    }

    /// - Parameters:
    ///   - scheduler: a new scheduler, or one restored from ``snapshot()``'s `scheduler` entry.
    ///   - model: the global model at `scheduler.version`.
    ///   - velocity: FedAvgM's saved server velocity (empty: none yet).
    ///   - adaptive: the adaptive server optimizer (nil: none), and `moments` its saved state.
    ///   - privacy: client-level DP's state, new or restored (nil: none).
    ///   - tasks: the outstanding tasks saved with the checkpoint (``snapshot()``'s `tasks`),
    ///     when resuming; nil for a new run.
    package init(
        scheduler: any Scheduler, model: [Float], velocity: [Float] = [], adaptive: AdaptiveServerOptimizer? = nil,
        moments: [Float] = [], privacy: ClientLevelPrivacy? = nil, resumedTasks: [ClientID: AssignedTask]? = nil,
        robust: RobustAggregation = .mean
    ) {
        self.scheduler = scheduler
        self.robust = robust
        if case .normBound(_, let window, _) = robust { normHistory = NormHistory(window: window) }
        if let resumedTasks {
            tasks = resumedTasks
            unrecordedTaskVersion = scheduler.version
        }
        self.model = model
        self.privacy = privacy
        accumulator = DeltaAccumulator(parameterCount: model.count)
        optimizer = ServerOptimizer(
            parameterCount: model.count, velocity: velocity, adaptive: adaptive, moments: moments)
    }

    /// The model's version: the scheduler's, less the aggregations that wait for a cohort's
    /// sum (``cohortEnded(version:sum:survivors:)``).
    package var version: Int { scheduler.version - groupCohorts.waiting.count }
    package var parameterCount: Int { model.count }
    /// Updates that arrived and were neither accumulated nor discarded yet.
    package var pendingCount: Int { pending.count }
    /// Timers armed and not yet fired or cancelled.
    package var armedTimers: [ScheduledTimer] {
        armed.map { ScheduledTimer(id: $0.key, generation: $0.value.generation) }.sorted { $0.id < $1.id }
    }

    // MARK: - Events

    package mutating func clientJoined(_ client: ClientID, samples: Int, now: Double) throws(CoreError) -> [CoreEffect]
    {
        try deliver(.joined(client, samples: samples), now: now)
    }

    package mutating func clientLost(_ client: ClientID, now: Double) throws(CoreError) -> [CoreEffect] {
        try deliver(.lost(client), now: now)
    }

    /// Hands `event` to the scheduler and carries out its actions. When client-level DP
    /// refuses the aggregation (its budget would be exceeded) the scheduler is put back as
    /// it was, so that ``version`` stays the model's; the driver then stops the run.
    mutating func deliver(_ event: SchedulerEvent, now: Double) throws(CoreError) -> [CoreEffect] {
        let before = scheduler
        do {
            return try perform(scheduler.handle(event, now: now))
        } catch  where error.code == .budgetSpent {
            scheduler = before
            throw error
        }
    }

    /// The task this core handed `client` and is waiting for, if any.
    package func task(of client: ClientID) -> AssignedTask? { tasks[client] }

    /// Why an update that arrives now would be refused, or nil if it answers a task this
    /// core gave: from the client it was given to, on the model version it was given, with
    /// no more steps than asked, and no older than ``maxStaleness``. Check before storing
    /// and acknowledging; replayed updates were checked when they first arrived.
    package func refusal(of update: UpdateInfo) -> UpdateRefusal? {
        if let limit = maxStaleness, version - update.baseVersion > limit {
            return UpdateRefusal(
                .tooStale,
                "update \(update.id) is based on version \(update.baseVersion), \(version - update.baseVersion) versions old; this server accepts at most \(limit) (server.max_staleness)"
            )
        }
        guard let task = tasks[update.client] else {
            if update.baseVersion == unrecordedTaskVersion, !unrecordedClients.contains(update.client) { return nil }
            return UpdateRefusal(.unsolicited, "client \(update.client) has no task to answer: wait for an assignment")
        }
        guard task.version == update.baseVersion else {
            return UpdateRefusal(
                .unsolicited,
                "client \(update.client)'s task is on version \(task.version), the update on \(update.baseVersion)")
        }
        guard (1...max(1, task.steps)).contains(update.steps) else {
            return UpdateRefusal(
                .unsolicited, "the task asked for \(task.steps) local steps, the update reports \(update.steps)")
        }
        return nil
    }

    /// Marks `update` delivered and its task answered (an update or a cohort member).
    mutating func answerTask(of update: UpdateInfo) {
        if tasks[update.client]?.version == update.baseVersion {
            tasks[update.client] = nil
        } else if tasks[update.client] == nil, update.baseVersion == unrecordedTaskVersion {
            // The one answer a resumed run takes without a recorded task: a second is refused.
            unrecordedClients.insert(update.client)
        }
    }

    /// Hands the scheduler an update that a cohort's sum stands for (``cohortArrived(_:sum:now:)``).
    mutating func deliverMember(_ update: UpdateInfo, now: Double) throws(CoreError) -> [CoreEffect] {
        guard delivered.insert(update.id).inserted else { return [] }
        answerTask(of: update)
        return try deliver(.updateArrived(update), now: now)
    }

    /// An update arrived (or is replayed after a restart) with its delta.
    ///
    /// - Parameters:
    ///   - delta: the values, kept as given until the scheduler accumulates them.
    ///   - measuredNorm: the delta's L2 norm if the caller already measured it (the wire
    ///     decoder does, for `server.max_update_norm`), so that it is not measured again.
    ///   - claimedNormBeforeClip: the norm the client reports before its own clipping.
    package mutating func updateArrived(
        _ update: UpdateInfo, delta: any DeltaBuffer, measuredNorm: Double? = nil, claimedNormBeforeClip: Double = 0,
        now: Double
    ) throws(CoreError) -> [CoreEffect] {
        guard delta.count == model.count else {
            throw CoreError(.wrongSize, "update \(update.id) has \(delta.count) values, the model \(model.count)")
        }
        guard pending[update.id] == nil, delivered.insert(update.id).inserted else { return [] }
        answerTask(of: update)
        if let privacy {
            var clipped = delta.withFloats { Array($0) }
            let admission = clipped.withUnsafeMutableBufferPointer {
                privacy.admit(
                    $0, baseVersion: update.baseVersion, normBeforeClip: claimedNormBeforeClip,
                    measuredNorm: measuredNorm)
            }
            privacyLedger.arrived(updateID: update.id, client: update.client, admission: admission)
            pending[update.id] = clipped
        } else if case .normBound(let factor, _, let minimumHistory) = robust {
            pending[update.id] = bounded(
                delta, measuredNorm: measuredNorm, factor: factor, minimumHistory: minimumHistory)
        } else {
            pending[update.id] = delta
        }
        if let held = scheduler.heldAccumulation(of: update.id) {
            // Replayed, and the restored scheduler's snapshot already holds it.
            return try perform([.accumulate(updateID: update.id, bucket: held.bucket, weight: held.coefficient)])
        }
        return try deliver(.updateArrived(update), now: now)
    }

    /// A timer fired. A stale one (re-armed or cancelled since) changes nothing.
    package mutating func timerFired(_ timer: ScheduledTimer, now: Double) throws(CoreError) -> [CoreEffect] {
        guard armed[timer.id]?.generation == timer.generation else { return [] }
        armed[timer.id] = nil
        return try deliver(.timerFired(timer.id), now: now)
    }

    /// After a restored scheduler starts on a new clock: re-arms its timers from `now`.
    /// Call it after the pending updates were replayed.
    package mutating func resume(now: Double) throws(CoreError) -> [CoreEffect] {
        try perform(scheduler.resume(now: now))
    }

    /// Replaces the scheduler (a simulation restoring a snapshot mid-run); call ``resume(now:)``
    /// next. Armed timers stay armed: the restored scheduler re-arms the ones it still wants
    /// for the same times, and ignores fires of ids it does not know.
    package mutating func replaceScheduler(with restored: any Scheduler) {
        scheduler = restored
    }

    // MARK: - Checkpointing

    package static let schedulerKey = "scheduler"
    package static let velocityKey = "server-velocity"
    package static let momentsKey = "server-moments"
    package static let privacyKey = "privacy"
    package static let tasksKey = "tasks"

    /// The outstanding tasks saved in `state` (empty for a snapshot written before they were).
    package static func tasks(in state: [String: Data]) throws(CoreError) -> [ClientID: AssignedTask] {
        guard let data = state[tasksKey] else { return [:] }
        do {
            return try JSONDecoder().decode([ClientID: AssignedTask].self, from: data)
        } catch {
            throw CoreError(.corruptState, "the saved tasks cannot be read: \(error)")
        }
    }

    /// What a restarted driver needs besides the model: the scheduler, client-level
    /// privacy's state and any server momentum. Stored with each aggregation.
    package func snapshot() throws -> [String: Data] {
        // While a later aggregation waits for its cohort, the scheduler has moved past the
        // model: the checkpoint keeps the scheduler as it was at the applied aggregation.
        var state = [Self.schedulerKey: try groupCohorts.appliedSchedulerState ?? scheduler.snapshot()]
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        state[Self.tasksKey] = try encoder.encode(tasks)
        if let privacy { state[Self.privacyKey] = try JSONEncoder().encode(privacy) }
        if !optimizer.velocity.isEmpty {
            state[Self.velocityKey] = optimizer.velocity.withUnsafeBufferPointer { Data(buffer: $0) }
        }
        if !optimizer.moments.isEmpty {
            state[Self.momentsKey] = optimizer.moments.withUnsafeBufferPointer { Data(buffer: $0) }
        }
        return state
    }

    /// The server velocity saved in `state`, checked against the model's size.
    package static func velocity(in state: [String: Data], parameterCount: Int) throws(CoreError) -> [Float] {
        try floats(state[velocityKey], count: parameterCount, what: "server momentum")
    }

    /// The adaptive server optimizer's moments saved in `state` (m then v), checked against the model's size.
    package static func moments(in state: [String: Data], parameterCount: Int) throws(CoreError) -> [Float] {
        try floats(state[momentsKey], count: 2 * parameterCount, what: "server optimizer moments")
    }

    private static func floats(_ data: Data?, count: Int, what: String) throws(CoreError) -> [Float] {
        guard let data else { return [] }
        guard data.count == count * MemoryLayout<Float>.size else {
            throw CoreError(.corruptState, "saved \(what) has \(data.count / 4) values, expected \(count)")
        }
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    // MARK: - Carrying out the scheduler's actions

    private mutating func perform(_ actions: [SchedulerAction]) throws(CoreError) -> [CoreEffect] {
        lastSchedulerActions = actions
        var effects: [CoreEffect] = []
        effects.reserveCapacity(actions.count)
        for action in actions {
            switch action {
            case .assign(let client, let steps):
                // The model the task trains from: the last aggregation's, even if it waits.
                let version = groupCohorts.waiting.last?.planned.newVersion ?? scheduler.version
                tasks[client] = AssignedTask(version: version, steps: steps)
                unrecordedClients.remove(client)
                if !groupCohorts.waiting.isEmpty {
                    groupCohorts.waiting[groupCohorts.waiting.count - 1].deferred.append(action)
                    continue
                }
                effects.append(.assign(client, localSteps: steps))
            case .wait(let client):
                if !groupCohorts.waiting.isEmpty {
                    groupCohorts.waiting[groupCohorts.waiting.count - 1].deferred.append(action)
                    continue
                }
                effects.append(.wait(client))
            case .accumulate(let id, let bucket, let weight):
                if let update = groupCohorts.announced.removeValue(forKey: id) {
                    groupCohorts.buffered[bucket, default: []].append((update, weight))
                    effects.append(.accumulated(updateID: id, bucket: bucket, weight: weight))
                    continue
                }
                if cohorts.holds(id) {
                    try cohorts.accumulate(id, bucket: bucket, weight: weight, into: &accumulator)
                    effects.append(.accumulated(updateID: id, bucket: bucket, weight: weight))
                    continue
                }
                guard let delta = pending.removeValue(forKey: id) else {
                    throw CoreError(
                        .unknownUpdate, "the scheduler accumulated update \(id), which the core does not hold")
                }
                if robust.needsWholeEvent {
                    held[bucket, default: []].append((delta, weight))
                } else {
                    delta.withFloats { accumulator.accumulate($0, weight: weight, into: bucket) }
                }
                privacyLedger.accumulated(updateID: id, bucket: bucket, weight: weight)
                effects.append(.accumulated(updateID: id, bucket: bucket, weight: weight))
            case .discard(let id, let reason):
                if cohorts.holds(id) {
                    throw CoreError(
                        .cohortMismatch,
                        "the scheduler discarded update \(id) (\(reason)), a member of a cohort whose sum cannot be split"
                    )
                }
                groupCohorts.announced[id] = nil
                pending[id] = nil
                privacyLedger.discarded(updateID: id)
                effects.append(.discarded(updateID: id, reason: reason))
            case .aggregate(let planned) where groupCohorts.isActive:
                let request = groupCohorts.request(for: planned)
                groupCohorts.waiting.append(
                    .init(
                        planned: planned,
                        schedulerState: scheduler.version == planned.newVersion ? try? scheduler.snapshot() : nil))
                effects.append(.cohortNeeded(request))
            case .aggregate(let planned):
                effects.append(.aggregated(try aggregate(planned)))
            case .setTimer(let id, let at):
                // Re-arming for the same time keeps the timer (and its place among
                // simultaneous events in a simulation).
                if let existing = armed[id], existing.at == at { continue }
                nextGeneration += 1
                armed[id] = (nextGeneration, at)
                effects.append(.setTimer(ScheduledTimer(id: id, generation: nextGeneration), at: at))
            case .cancelTimer(let id):
                armed[id] = nil
                effects.append(.cancelTimer(id))
            }
        }
        return effects
    }

    /// Deferred assignments and waits, released once the model they need exists.
    mutating func release(_ actions: [SchedulerAction]) -> [CoreEffect] {
        actions.compactMap {
            switch $0 {
            case .assign(let client, let steps): .assign(client, localSteps: steps)
            case .wait(let client): .wait(client)
            default: nil
            }
        }
    }

    private mutating func aggregate(_ planned: Aggregation) throws(CoreError) -> AggregationOutcome {
        var aggregation = robust.needsWholeEvent ? combineHeld(planned) : planned
        var privacyOutcome: ClientLevelPrivacy.EventOutcome?
        if var dp = privacy {
            do {
                let (noised, outcome) = try dp.privatize(planned, ledger: &privacyLedger, accumulator: &accumulator)
                aggregation = noised
                privacyOutcome = outcome
                privacy = dp
                lastPrivacyOutcome = outcome
            } catch  where error.code == .budgetSpent {
                throw CoreError(.budgetSpent, error.message)
            } catch {
                throw CoreError(.privacy, "differential privacy failed at version \(planned.newVersion): \(error)")
            }
        }
        model.withUnsafeMutableBufferPointer { optimizer.apply(aggregation, accumulator: &accumulator, to: $0) }
        return AggregationOutcome(aggregation: aggregation, model: model, privacy: privacyOutcome)
    }
}

extension AggregationCore {
    /// ``RobustAggregation/normBound``: the delta, or a copy scaled down to `factor` times
    /// the median of the recent norms. The bounded norm joins the history.
    fileprivate mutating func bounded(
        _ delta: any DeltaBuffer, measuredNorm: Double?, factor: Double, minimumHistory: Int
    ) -> any DeltaBuffer {
        let norm = measuredNorm ?? delta.withFloats { VectorMath.l2Norm($0) }
        var result = delta
        var kept = norm
        if let history = normHistory, history.norms.count >= minimumHistory, let median = history.median,
            norm > factor * median, norm > 0
        {
            let scale = Float(factor * median / norm)
            result = delta.withFloats { values in values.map { $0 * scale } }
            kept = factor * median
        }
        normHistory?.record(kept)
        return result
    }

    /// Replaces the planned buckets by one: `(sum of c_i) * rule(delta_i)` over the deltas
    /// held in them, with `c_i` the bucket's coefficient times the update's weight.
    fileprivate mutating func combineHeld(_ planned: Aggregation) -> Aggregation {
        var deltas: [any DeltaBuffer] = []
        var total = 0.0
        for bucket in planned.buckets {
            for entry in held.removeValue(forKey: bucket.bucket) ?? [] {
                deltas.append(entry.delta)
                total += bucket.coefficient * entry.weight
            }
        }
        guard !deltas.isEmpty else { return planned }
        var combined = [Float](repeating: 0, count: model.count)
        combined.withUnsafeMutableBufferPointer { robust.combine(deltas, into: $0) }
        let bucket = "\(robust.name)-v\(planned.newVersion)"
        combined.withUnsafeBufferPointer { accumulator.accumulate($0, weight: total, into: bucket) }
        var aggregation = planned
        aggregation.buckets = [BucketWeight(bucket: bucket, coefficient: 1)]
        return aggregation
    }
}

/// Why an arriving update is not taken (see ``AggregationCore/refusal(of:)``).
package struct UpdateRefusal: Sendable, Equatable, CustomStringConvertible {
    package enum Reason: String, Sendable {
        /// It answers no task given to its client (none, another version, more steps).
        case unsolicited
        /// It is older than the server accepts.
        case tooStale
    }

    package var reason: Reason
    package var message: String

    package init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    package var description: String { "\(reason.rawValue): \(message)" }
}

/// Why the aggregation core refused an event or could not carry it out.
package struct CoreError: Error, Sendable, CustomStringConvertible {
    package enum Code: String, Sendable {
        /// A delta's length differs from the model's.
        case wrongSize
        /// The scheduler referred to an update the core does not hold (a scheduler bug).
        case unknownUpdate
        /// Client-level DP could not finish an event (no secure randomness, accountant failure).
        case privacy
        /// Client-level DP refused an event that would exceed its ε budget: the run is over.
        case budgetSpent
        /// Saved state does not fit the model.
        case corruptState
        /// A cohort's sum was refused, or the scheduler treated its members otherwise than
        /// they were weighted (secure aggregation, docs/design.md 13).
        case cohortMismatch
    }

    package var code: Code
    package var message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { "\(code.rawValue): \(message)" }
}
