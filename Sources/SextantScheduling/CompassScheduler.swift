import Foundation

/// FedCompass (Li et al., ICLR 2024): semi-asynchronous federated learning that estimates
/// each client's speed and gives it the number of local steps that makes it finish together
/// with other clients of an *arrival group*, so one aggregation applies several updates
/// without waiting for stragglers. The rules are those of docs/design.md 5.1.
///
/// Weights and coefficients. When client i's update arrives it is accumulated with weight
/// `p_i`, its share of the federation: its samples over the samples of *every client the
/// scheduler has ever seen join* (`weighting: samples`), or `1/N` over those N clients
/// (`weighting: equal`), as the reference aggregator (APPFL `FedCompassAggregator`) uses
/// `1/num_clients` of all clients, not of the group. Updates wait in buckets keyed by group
/// and base version (`g<group>-v<base>`) or, when late, by base version alone (`late-v<base>`),
/// so that updates with the same staleness share a bucket and none overwrites another.
/// At aggregation each bucket gets coefficient `alpha * S(version - base)`, so the model
/// moves by `sum_i alpha * S(tau_i) * p_i * delta_i` with `tau_i` measured when it is applied.
///
/// Rejoining. A client that is lost and comes back keeps its speed estimate: it is placed in
/// an arrival group at once (a client whose speed was never measured gets a Qmax task, as
/// a new client does). Its update already in a group buffer, if any, is still applied.
///
/// Clock. Times are the caller's clock. After a restore, the first call (``resume(now:)`` or
/// ``handle(_:now:)``) maps the time of the last event before the snapshot to its `now`:
/// every stored time shifts by the difference, so the downtime counts as zero.
///
/// `Sendable` value type; all state is `Codable` and goes into ``snapshot()``.
package struct CompassScheduler: Scheduler, Codable {
    package struct Configuration: Sendable, Codable, Equatable {
        /// Clients that must have joined before the first tasks go out (all start together).
        package var minimumClients: Int
        /// Qmin: the fewest local steps a task may have.
        package var minLocalSteps: Int
        /// Qmax: the most local steps, and every client's first task.
        package var maxLocalSteps: Int
        /// m: weight of the newest speed measurement, `speed = (1 - m) speed + m s`.
        package var speedMomentum: Double
        /// lambda: a group's deadline is `now + lambda * q * speed` of the client that made it.
        package var latestTimeFactor: Double
        /// Server mixing rate alpha.
        package var alpha: Double
        package var staleness: StalenessFunction
        package var weighting: Weighting
        /// Bounds on what claimed sample counts buy (nil in snapshots from before them: none).
        package var claimLimits: ClaimLimits?
        /// Every aggregation is an arrival group's, of the updates that arrived in it
        /// (secure aggregation, docs/design.md 13, where a group is a cohort): first tasks
        /// form a group instead of being aggregated alone, and a late update is discarded
        /// instead of waiting in the general buffer. Nil or false: the rules of 5.1.
        package var groupsOnly: Bool?

        package init(
            minimumClients: Int = 1, minLocalSteps: Int = 20, maxLocalSteps: Int = 100, speedMomentum: Double = 0.9,
            latestTimeFactor: Double = 1.5, alpha: Double = 0.9, staleness: StalenessFunction = .polynomial(a: 0.5),
            weighting: Weighting = .samples, claimLimits: ClaimLimits = .none, groupsOnly: Bool = false
        ) {
            self.minimumClients = minimumClients
            self.minLocalSteps = minLocalSteps
            self.maxLocalSteps = maxLocalSteps
            self.speedMomentum = speedMomentum
            self.latestTimeFactor = latestTimeFactor
            self.alpha = alpha
            self.staleness = staleness
            self.weighting = weighting
            self.claimLimits = claimLimits
            self.groupsOnly = groupsOnly ? true : nil
        }

        /// Throws when the parameters cannot schedule anything.
        package func validate() throws {
            guard minimumClients > 0 else { throw invalid("minimumClients must be positive") }
            guard minLocalSteps > 0, maxLocalSteps >= minLocalSteps else {
                throw invalid("need 0 < minLocalSteps <= maxLocalSteps, got \(minLocalSteps) and \(maxLocalSteps)")
            }
            guard speedMomentum > 0, speedMomentum <= 1 else { throw invalid("speedMomentum must lie in (0, 1]") }
            guard latestTimeFactor >= 1, latestTimeFactor.isFinite else {
                throw invalid("latestTimeFactor must be >= 1")
            }
            guard alpha > 0, alpha.isFinite else { throw invalid("alpha must be positive") }
        }

        private func invalid(_ message: String) -> SchedulerError { SchedulerError(.invalidConfiguration, message) }
    }

    /// What the scheduler knows of one client.
    struct ClientState: Codable, Equatable {
        var samples: Int
        /// Estimated seconds per local step; nil until the first arrival.
        var speed: Double?
        /// When the current task was assigned.
        var startTime: Double?
        /// Steps of the current task (Q).
        var steps: Int = 0
        /// The version the current task trains from.
        var baseVersion: Int = 0
        /// The arrival group of the current task, if any.
        var group: Int?
        var isConnected = true
        /// Whether a task is out (an arrival then measures the speed).
        var hasTask = false
    }

    /// An update accumulated in a bucket, waiting for its aggregation.
    struct BufferedUpdate: Codable, Equatable {
        var id: Int64
        var client: ClientID
        var baseVersion: Int
        /// The weight it was accumulated with, to accumulate it again after a restart.
        var weight: Double
    }

    struct ArrivalGroup: Codable, Equatable {
        var id: Int
        var pending: [ClientID] = []
        var arrived: [ClientID] = []
        /// Ta
        var expectedArrival: Double
        /// Tmax
        var latestArrival: Double
        /// False once aggregated or past its deadline: members still pending will be late.
        var isOpen = true
        var updates: [BufferedUpdate] = []
        /// ``Configuration/groupsOnly``: a group of first tasks (no speed known) opened at
        /// this time, whose arrival times are set by its first arrival (nil: an ordinary group).
        var firstTasksSince: Double?

        /// A group of first tasks that no member has reached yet: it has no deadline.
        var awaitsFirstArrival: Bool { firstTasksSince != nil && arrived.isEmpty && isOpen }

        var timer: TimerID { CompassScheduler.timerID(group: id) }
    }

    package private(set) var configuration: Configuration
    package private(set) var version: Int
    var clients: [ClientID: ClientState] = [:]
    /// In creation order, which decides ties.
    var groups: [ArrivalGroup] = []
    var generalBuffer: [BufferedUpdate] = []
    var nextGroupID = 0
    var isStarted = false
    /// The time of the last event.
    var clock: Double = 0
    /// Set by a restore: the next call shifts stored times to the new clock.
    var needsClockShift = false
    /// ``Configuration/groupsOnly``: the version whose model exists (nil: ``version``'s).
    /// An aggregation is applied once its cohort's sum is decoded; until then tasks wait.
    var modelVersion: Int?
    /// ``Configuration/groupsOnly``: clients whose next task waits for the model of
    /// ``version``, fastest first.
    var awaitingModel: [ClientID]?

    enum CodingKeys: String, CodingKey {
        case configuration, version, clients, groups, generalBuffer, nextGroupID, isStarted, clock, modelVersion,
            awaitingModel
    }

    package init(configuration: Configuration = Configuration(), version: Int = 0) {
        self.configuration = configuration
        self.version = version
    }

    package init(restoring data: Data) throws {
        self = try TaggedSnapshot<Self>.decode(data, expecting: [.compass])
        needsClockShift = true
        // A restored scheduler starts from a checkpoint's model; its clients rejoin for tasks.
        modelVersion = nil
        awaitingModel = nil
    }

    package mutating func limitClaims(_ limits: ClaimLimits) {
        configuration.claimLimits = limits
    }

    package func snapshot() throws -> Data {
        try TaggedSnapshot.encode(self, kind: .compass)
    }

    static func timerID(group: Int) -> TimerID { "group-\(group)" }

    // MARK: - Events

    package mutating func handle(_ event: SchedulerEvent, now: Double) -> [SchedulerAction] {
        var actions = advanceClock(to: now)
        switch event {
        case .joined(let client, let samples):
            actions += join(client, samples: samples, now: now)
        case .updateArrived(let update):
            actions += arrive(update, now: now)
        case .timerFired(let id):
            if let index = groups.firstIndex(where: { $0.timer == id && $0.isOpen }) {
                actions += expire(groupAt: index, now: now)
            }
        case .lost(let client):
            actions += lose(client, now: now)
        case .modelApplied(let applied):
            actions += modelApplied(applied, now: now)
        }
        return actions
    }

    package mutating func resume(now: Double) -> [SchedulerAction] {
        var actions = advanceClock(to: now)
        for group in groups where group.isOpen && !group.awaitsFirstArrival {
            actions.append(.setTimer(group.timer, at: group.latestArrival))
        }
        return actions
    }

    /// Shifts a restored state to the new clock, then closes the groups whose deadline has
    /// passed without their timer having been handled (a timer that fires late, or a
    /// restart), so that every decision sees the deadlines as they should have happened.
    private mutating func advanceClock(to now: Double) -> [SchedulerAction] {
        if needsClockShift {
            shiftTimes(by: now - clock)
            needsClockShift = false
        }
        clock = now
        var actions: [SchedulerAction] = []
        while let index = groups.firstIndex(where: { $0.isOpen && !$0.awaitsFirstArrival && $0.latestArrival < now }) {
            actions.append(.cancelTimer(groups[index].timer))
            actions += expire(groupAt: index, now: now)
        }
        return actions
    }

    private mutating func shiftTimes(by offset: Double) {
        guard offset != 0, offset.isFinite else { return }
        for id in clients.keys {
            if let start = clients[id]!.startTime { clients[id]!.startTime = start + offset }
        }
        for index in groups.indices {
            groups[index].expectedArrival += offset
            groups[index].latestArrival += offset
            if let since = groups[index].firstTasksSince { groups[index].firstTasksSince = since + offset }
        }
        clock += offset
    }

    private mutating func join(_ client: ClientID, samples: Int, now: Double) -> [SchedulerAction] {
        var actions: [SchedulerAction] = []
        if var state = clients[client] {
            state.samples = samples
            state.isConnected = true
            clients[client] = state
            if let id = state.group, let group = groups.first(where: { $0.id == id }), group.arrived.contains(client) {
                // Its update waits in the group buffer; it gets the model with the group.
                return [.wait(client)]
            }
            // A rejoining client lost its task (or the server restarted): a new one.
            actions += leaveGroup(client, now: now)
        } else {
            clients[client] = ClientState(samples: samples)
        }
        guard isStarted else {
            let connected = clients.keys.sorted().filter { clients[$0]!.isConnected }
            guard connected.count >= configuration.minimumClients else { return actions + [.wait(client)] }
            isStarted = true
            return actions + connected.flatMap { assignTask(to: $0, now: now) }
        }
        return actions + assignTask(to: client, now: now)
    }

    private mutating func arrive(_ update: UpdateInfo, now: Double) -> [SchedulerAction] {
        let client = update.client
        var state = clients[client] ?? ClientState(samples: update.samples)
        state.isConnected = true
        if let id = state.group, let group = groups.first(where: { $0.id == id }), group.arrived.contains(client) {
            clients[client] = state
            return [.discard(updateID: update.id, reason: "the client already reported for its task")]
        }
        // 1. The speed.
        if state.hasTask, let start = state.startTime {
            let measured = max((now - start) / Double(max(state.steps, 1)), Self.fastestSpeed)
            let m = configuration.speedMomentum
            state.speed = state.speed.map { (1 - m) * $0 + m * measured } ?? measured
        }
        state.hasTask = false
        clients[client] = state
        isStarted = true
        let weight = configuration.weighting.share(
            of: client, samples: clients.mapValues(\.samples), limits: configuration.claimLimits ?? .none)
        let buffered = BufferedUpdate(id: update.id, client: client, baseVersion: update.baseVersion, weight: weight)

        guard let id = state.group, let index = groups.firstIndex(where: { $0.id == id }),
            groups[index].pending.contains(client)
        else {
            if groupsOnly { return dropLate(update, now: now) }
            // 2. No group yet (first arrival): aggregate this update alone, at once.
            clients[client]!.group = nil
            let bucket = "solo-u\(update.id)"
            let tau = max(version - update.baseVersion, 0)
            let aggregation = Aggregation(
                newVersion: version + 1,
                buckets: [BucketWeight(bucket: bucket, coefficient: coefficient(staleness: tau))],
                updates: [AppliedUpdate(id: update.id, client: client, staleness: tau)])
            version += 1
            return [.accumulate(updateID: update.id, bucket: bucket, weight: weight), .aggregate(aggregation)]
                + assignTask(to: client, now: now)
        }

        if !groups[index].awaitsFirstArrival, now > groups[index].latestArrival || !groups[index].isOpen {
            if groupsOnly { return dropLate(update, now: now) }
            // 3. Late: into the general buffer; the client gets a new group and the current model.
            generalBuffer.append(buffered)
            var actions: [SchedulerAction] = [
                .accumulate(updateID: update.id, bucket: Self.lateBucket(base: update.baseVersion), weight: weight)
            ]
            actions += leaveGroup(client, now: now)
            return actions + assignTask(to: client, now: now)
        }

        // 4. On time: into the group buffer; the last pending member triggers the aggregation.
        var actions: [SchedulerAction] = []
        if let since = groups[index].firstTasksSince, groups[index].awaitsFirstArrival {
            // A group of first tasks: its first arrival sets when the others are expected.
            groups[index].expectedArrival = now
            groups[index].latestArrival = since + configuration.latestTimeFactor * (now - since)
            actions.append(.setTimer(groups[index].timer, at: groups[index].latestArrival))
        }
        groups[index].pending.removeAll { $0 == client }
        groups[index].arrived.append(client)
        groups[index].updates.append(buffered)
        actions.append(
            .accumulate(
                updateID: update.id, bucket: Self.groupBucket(group: id, base: update.baseVersion), weight: weight))
        if groups[index].pending.isEmpty {
            actions.append(.cancelTimer(groups[index].timer))
            actions += aggregate(groupAt: index, now: now)
        }
        return actions
    }

    private var groupsOnly: Bool { configuration.groupsOnly == true }

    /// ``Configuration/groupsOnly``: an update that is not on time in its group (late, or its
    /// client has no group) is discarded, and its client gets a new group and the current model.
    private mutating func dropLate(_ update: UpdateInfo, now: Double) -> [SchedulerAction] {
        var actions: [SchedulerAction] = [
            .discard(updateID: update.id, reason: "late for its arrival group, whose cohort is summed without it")
        ]
        actions += leaveGroup(update.client, now: now)
        return actions + assignTask(to: update.client, now: now)
    }

    /// An update already in a buffer: the restored snapshot lists it (see
    /// ``Scheduler/heldAccumulation(of:)``); it goes into the same bucket with the same weight.
    package func heldAccumulation(of id: Int64) -> BucketWeight? {
        for group in groups {
            if let buffered = group.updates.first(where: { $0.id == id }) {
                return BucketWeight(
                    bucket: Self.groupBucket(group: group.id, base: buffered.baseVersion), coefficient: buffered.weight)
            }
        }
        if let buffered = generalBuffer.first(where: { $0.id == id }) {
            return BucketWeight(bucket: Self.lateBucket(base: buffered.baseVersion), coefficient: buffered.weight)
        }
        return nil
    }

    private mutating func lose(_ client: ClientID, now: Double) -> [SchedulerAction] {
        guard clients[client] != nil else { return [] }
        awaitingModel?.removeAll { $0 == client }
        clients[client]!.isConnected = false
        clients[client]!.hasTask = false
        if let id = clients[client]!.group, let group = groups.first(where: { $0.id == id }),
            group.arrived.contains(client)
        {
            // Its update stays in the buffer and is applied with the group.
            return []
        }
        return leaveGroup(client, now: now)
    }

    /// Removes a pending member; a group left with no pending member is aggregated (if
    /// anyone arrived and its deadline has not passed) or dropped.
    private mutating func leaveGroup(_ client: ClientID, now: Double) -> [SchedulerAction] {
        guard let id = clients[client]?.group else { return [] }
        clients[client]!.group = nil
        guard let index = groups.firstIndex(where: { $0.id == id }) else { return [] }
        groups[index].pending.removeAll { $0 == client }
        guard groups[index].pending.isEmpty else { return [] }
        if groups[index].isOpen {
            let timer = groups[index].timer
            if groups[index].arrived.isEmpty {
                groups.remove(at: index)
                return [.cancelTimer(timer)]
            }
            return [.cancelTimer(timer)] + aggregate(groupAt: index, now: now)
        }
        if groups[index].arrived.isEmpty { groups.remove(at: index) }
        return []
    }

    /// The deadline: aggregate what arrived, or, if nothing did, close the group so that its
    /// members are late when they come.
    private mutating func expire(groupAt index: Int, now: Double) -> [SchedulerAction] {
        guard groups[index].arrived.isEmpty else { return aggregate(groupAt: index, now: now) }
        groups[index].isOpen = false
        if groups[index].pending.isEmpty { groups.remove(at: index) }
        return []
    }

    // MARK: - Aggregation

    /// The group buffer plus the general buffer, each bucket discounted by its staleness;
    /// then version += 1 and every arrived member, fastest first, gets a group and a task.
    private mutating func aggregate(groupAt index: Int, now: Double) -> [SchedulerAction] {
        let group = groups[index]
        var buckets: [BucketWeight] = []
        for base in Set(group.updates.map(\.baseVersion)).sorted() {
            buckets.append(
                BucketWeight(
                    bucket: Self.groupBucket(group: group.id, base: base),
                    coefficient: coefficient(staleness: version - base)))
        }
        for base in Set(generalBuffer.map(\.baseVersion)).sorted() {
            buckets.append(
                BucketWeight(bucket: Self.lateBucket(base: base), coefficient: coefficient(staleness: version - base)))
        }
        let applied = (group.updates + generalBuffer).map {
            AppliedUpdate(id: $0.id, client: $0.client, staleness: max(version - $0.baseVersion, 0))
        }
        var actions: [SchedulerAction] = [
            .aggregate(Aggregation(newVersion: version + 1, buckets: buckets, updates: applied))
        ]
        // Under groupsOnly the new model exists once its cohort's sum is decoded.
        if groupsOnly, modelVersion == nil { modelVersion = version }
        version += 1
        generalBuffer = []

        groups[index].isOpen = false
        groups[index].arrived = []
        groups[index].updates = []
        if groups[index].pending.isEmpty { groups.remove(at: index) }

        for client in group.arrived { clients[client]?.group = nil }
        for client in fastestFirst(group.arrived) where clients[client]?.isConnected == true {
            actions += assignTask(to: client, now: now)
        }
        return actions
    }

    /// ``Configuration/groupsOnly``: the model of `applied` exists; once it is ``version``'s,
    /// the tasks that waited for it go out, fastest first.
    private mutating func modelApplied(_ applied: Int, now: Double) -> [SchedulerAction] {
        guard groupsOnly else { return [] }
        modelVersion = applied >= version ? nil : applied
        guard modelVersion == nil, let waiting = awaitingModel else { return [] }
        awaitingModel = nil
        return fastestFirst(waiting).flatMap { assignTask(to: $0, now: now) }
    }

    /// `ids` by estimated speed, fastest first (unknown speeds last; ties by id).
    private func fastestFirst(_ ids: [ClientID]) -> [ClientID] {
        ids.sorted {
            let a = clients[$0]?.speed ?? .infinity
            let b = clients[$1]?.speed ?? .infinity
            return a != b ? a < b : $0 < $1
        }
    }

    private func coefficient(staleness: Int) -> Double {
        configuration.alpha * configuration.staleness(max(staleness, 0))
    }

    static func groupBucket(group: Int, base: Int) -> BucketID { "g\(group)-v\(base)" }
    static func lateBucket(base: Int) -> BucketID { "late-v\(base)" }
    /// A floor on speed estimates, so that an instantaneous task cannot divide by zero.
    static let fastestSpeed = 1e-9

    // MARK: - Assignment

    /// Sends `client` the current model: into an arrival group if its speed is known, else
    /// (a first task) Qmax steps with no group.
    private mutating func assignTask(to client: ClientID, now: Double) -> [SchedulerAction] {
        guard var state = clients[client], state.isConnected else { return [] }
        if let modelVersion, modelVersion < version {
            // The task's model waits for its cohort: the task starts, and is timed, once it exists.
            if awaitingModel?.contains(client) != true { awaitingModel = (awaitingModel ?? []) + [client] }
            clients[client]!.group = nil
            clients[client]!.hasTask = false
            return []
        }
        state.startTime = now
        state.baseVersion = version
        state.hasTask = true
        state.group = nil
        guard let speed = state.speed else {
            state.steps = configuration.maxLocalSteps
            clients[client] = state
            if groupsOnly { joinFirstTasks(client, now: now) }
            return [.assign(client, localSteps: state.steps)]
        }
        clients[client] = state
        let qmin = configuration.minLocalSteps
        let qmax = configuration.maxLocalSteps

        // Join: the feasible existing group with the most steps (ties: the later group).
        var joined: (index: Int, steps: Int)?
        for (index, group) in groups.enumerated() where group.isOpen && !group.awaitsFirstArrival {
            let q = Self.steps(in: group.expectedArrival - now, speed: speed)
            if q >= qmin, q <= qmax, q >= (joined?.steps ?? .min) { joined = (index, q) }
        }
        if let joined {
            groups[joined.index].pending.append(client)
            clients[client]!.group = groups[joined.index].id
            clients[client]!.steps = joined.steps
            return [.assign(client, localSteps: joined.steps)]
        }

        // Create: aim just after the fastest member of a live group could finish a Qmax task
        // after that group's deadline.
        var best: Int?
        for group in groups where group.isOpen && now < group.latestArrival {
            guard let fastest = (group.pending + group.arrived).compactMap({ clients[$0]?.speed }).min() else {
                continue
            }
            let estimate = group.latestArrival + fastest * Double(qmax)
            let q = Self.steps(in: estimate - now, speed: speed)
            if q <= qmax { best = max(best ?? q, q) }
        }
        var q = best ?? qmax
        if let best, best >= 0, best < qmin { q = qmin }
        q = min(max(q, qmin), qmax)
        let id = nextGroupID
        nextGroupID += 1
        let duration = Double(q) * speed
        groups.append(
            ArrivalGroup(
                id: id, pending: [client], expectedArrival: now + duration,
                latestArrival: now + configuration.latestTimeFactor * duration))
        clients[client]!.group = id
        clients[client]!.steps = q
        return [.assign(client, localSteps: q), .setTimer(Self.timerID(group: id), at: groups.last!.latestArrival)]
    }

    /// ``Configuration/groupsOnly``: a client whose speed is unknown joins the group of first
    /// tasks that no member has reached yet, or opens one; the group's first arrival sets its
    /// expected arrival (that time) and deadline (`lambda` times the time since it opened).
    private mutating func joinFirstTasks(_ client: ClientID, now: Double) {
        let index: Int
        if let open = groups.firstIndex(where: { $0.awaitsFirstArrival }) {
            index = open
        } else {
            groups.append(
                ArrivalGroup(id: nextGroupID, expectedArrival: now, latestArrival: now, firstTasksSince: now))
            nextGroupID += 1
            index = groups.count - 1
        }
        groups[index].pending.append(client)
        clients[client]!.group = groups[index].id
    }

    /// `floor(seconds / speed)`, kept within Int range.
    static func steps(in seconds: Double, speed: Double) -> Int {
        let q = (seconds / max(speed, fastestSpeed)).rounded(.down)
        guard q.isFinite else { return q > 0 ? Int(1e9) : -Int(1e9) }
        return Int(min(max(q, -1e9), 1e9))
    }
}

// MARK: - Inspection (tests and the simulator's reports)

extension CompassScheduler {
    /// A group as seen from outside.
    package struct GroupSummary: Sendable, Equatable {
        package var id: Int
        package var pending: [ClientID]
        package var arrived: [ClientID]
        package var expectedArrival: Double
        package var latestArrival: Double
        package var isOpen: Bool
    }

    /// The arrival groups, in creation order.
    package var arrivalGroups: [GroupSummary] {
        groups.map {
            GroupSummary(
                id: $0.id, pending: $0.pending, arrived: $0.arrived, expectedArrival: $0.expectedArrival,
                latestArrival: $0.latestArrival, isOpen: $0.isOpen)
        }
    }

    /// The estimated seconds per step of `client`, nil before its first arrival.
    package func estimatedSpeed(of client: ClientID) -> Double? { clients[client]?.speed }

    /// The arrival group of `client`'s current task.
    package func group(of client: ClientID) -> Int? { clients[client]?.group }

    /// Updates waiting in the general buffer (late arrivals), as (update id, base version).
    package var lateUpdates: [(id: Int64, baseVersion: Int)] { generalBuffer.map { ($0.id, $0.baseVersion) } }
}
