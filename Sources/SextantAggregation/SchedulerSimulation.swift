import SextantBase
import SextantScheduling

/// Runs a federation on a virtual clock: a discrete-event loop over task completions,
/// timers and scripted joins and losses, driving the same ``AggregationCore`` as the
/// daemon (so timers, replay and the vector maths behave as in a real run). A client that
/// is given `steps` local steps reports `latency + steps * secondsPerStep` (times a seeded
/// jitter) later, with an update based on the version current when the task was
/// assigned. The delta of a task comes from the observer's `train` (which `sextant
/// simulate` plugs local training into), or is zero; the model has `parameterCount`
/// values (zero by default: a pure scheduling simulation).
///
/// Ties in time are broken by the order in which events were scheduled, so a run is a
/// pure function of its inputs. Not `Sendable` (it holds observer closures).
package struct SchedulerSimulation<S: Scheduler> {
    package struct Client: Sendable, Equatable {
        package var id: ClientID
        package var samples: Int
        /// Mean seconds per local step.
        package var secondsPerStep: Double
        /// When the client first joins.
        package var joinTime: Double

        package init(id: ClientID, samples: Int = 100, secondsPerStep: Double, joinTime: Double = 0) {
            self.id = id
            self.samples = samples
            self.secondsPerStep = secondsPerStep
            self.joinTime = joinTime
        }
    }

    package struct Configuration: Sendable, Equatable {
        /// Seconds added to every task: model download plus update upload.
        package var latency: Double
        /// Relative standard deviation of a task's compute time (docs/design.md 5.3 uses 0.05).
        package var jitter: Double
        package var seed: UInt64
        /// The model's size (zero: a pure scheduling simulation).
        package var parameterCount: Int

        package init(latency: Double = 0, jitter: Double = 0, seed: UInt64 = 1, parameterCount: Int = 0) {
            self.latency = latency
            self.jitter = jitter
            self.seed = seed
            self.parameterCount = parameterCount
        }
    }

    /// A task given to a client; `updateID` names the update it will produce.
    package struct Task: Sendable, Equatable {
        package var updateID: Int64
        package var client: ClientID
        package var steps: Int
        package var baseVersion: Int
        package var assignedAt: Double
        package var arrivesAt: Double
    }

    package struct AggregationRecord: Sendable, Equatable {
        package var time: Double
        package var aggregation: Aggregation
    }

    /// One event handed to the scheduler and the actions it returned.
    package struct TraceEntry: Sendable, Equatable {
        package var time: Double
        package var event: SchedulerEvent
        package var actions: [SchedulerAction]
    }

    /// Things that happen to clients, scripted by a test or an experiment.
    package enum Incident: Sendable, Equatable {
        /// The client dies: its task in flight is lost and the scheduler hears `.lost`.
        case lose(ClientID)
        /// The client (re)joins.
        case join(ClientID)
    }

    /// Callbacks; each is optional.
    package struct Observer {
        /// Trains a task from `model` (the global model at the task's base version) and
        /// returns its delta; nil: a zero delta.
        package var train: ((_ task: Task, _ model: [Float]) -> [Float])?
        package var taskAssigned: ((Task) -> Void)?
        package var updateAccumulated: ((_ updateID: Int64, _ bucket: BucketID, _ weight: Double) -> Void)?
        /// An aggregation was applied; `model` is the new global model.
        package var aggregated: ((AggregationRecord, _ model: [Float]) -> Void)?

        package init(
            train: ((_ task: Task, _ model: [Float]) -> [Float])? = nil,
            taskAssigned: ((Task) -> Void)? = nil,
            updateAccumulated: ((_ updateID: Int64, _ bucket: BucketID, _ weight: Double) -> Void)? = nil,
            aggregated: ((AggregationRecord, _ model: [Float]) -> Void)? = nil
        ) {
            self.train = train
            self.taskAssigned = taskAssigned
            self.updateAccumulated = updateAccumulated
            self.aggregated = aggregated
        }
    }

    enum Occurrence {
        case arrival(Task)
        case timer(ScheduledTimer)
        case incident(Incident)
    }

    struct Entry {
        var time: Double
        var sequence: Int
        var occurrence: Occurrence

        func precedes(_ other: Entry) -> Bool {
            time != other.time ? time < other.time : sequence < other.sequence
        }
    }

    /// The scheduler under simulation. Replacing it (say with one restored from a snapshot)
    /// keeps the clients and events in flight; call ``resumeScheduler()`` afterwards.
    package var scheduler: S {
        get { core.scheduler as! S }
        set { core.replaceScheduler(with: newValue) }
    }
    /// The aggregation core the simulation drives.
    package private(set) var core: AggregationCore
    package let configuration: Configuration
    package let clients: [ClientID: Client]
    package private(set) var now: Double = 0
    package private(set) var tasks: [Task] = []
    /// Tasks whose update reached the scheduler, in arrival order.
    package private(set) var arrivals: [Task] = []
    package private(set) var aggregations: [AggregationRecord] = []
    /// Update id to the bucket and weight it was accumulated with.
    package private(set) var accumulated: [Int64: BucketWeight] = [:]
    package private(set) var discarded: [Int64] = []
    package private(set) var trace: [TraceEntry] = []

    private var queue: [Entry] = []
    private var sequence = 0
    private var nextUpdateID: Int64 = 1
    private var inFlight: [ClientID: Int64] = [:]
    /// Deltas of tasks in flight, trained when they were assigned.
    private var deltas: [Int64: [Float]] = [:]
    private var alive: Set<ClientID> = []
    private var generator: SeededGenerator

    package init(scheduler: S, clients: [Client], configuration: Configuration = Configuration()) {
        self.init(
            scheduler: scheduler, model: [Float](repeating: 0, count: configuration.parameterCount), clients: clients,
            configuration: configuration)
    }

    /// A simulation that starts from `model` (its size overrides `configuration.parameterCount`),
    /// with client-level DP when `privacy` is given.
    package init(
        scheduler: S, model: [Float], clients: [Client], configuration: Configuration = Configuration(),
        robust: RobustAggregation = .mean, privacy: ClientLevelPrivacy? = nil,
        serverOptimizer: AdaptiveServerOptimizer? = nil
    ) {
        var configuration = configuration
        configuration.parameterCount = model.count
        core = AggregationCore(
            scheduler: scheduler, model: model, adaptive: serverOptimizer, privacy: privacy, robust: robust)
        self.configuration = configuration
        self.clients = Dictionary(clients.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        generator = SeededGenerator(seed: configuration.seed)
        for client in clients { push(.incident(.join(client.id)), at: client.joinTime) }
    }

    /// Scripts `incident` at virtual time `time`.
    package mutating func schedule(_ incident: Incident, at time: Double) {
        push(.incident(incident), at: max(time, now))
    }

    /// Runs until the scheduler reaches `version`, time passes `maxTime`, or nothing is left
    /// to happen. Returns whether the version was reached.
    @discardableResult
    package mutating func run(untilVersion version: Int, maxTime: Double = .infinity, observer: Observer = Observer())
        -> Bool
    {
        while scheduler.version < version {
            guard let next = queue.first, next.time <= maxTime else { return false }
            step(observer: observer)
        }
        return true
    }

    /// Runs every event up to and including time `time`.
    package mutating func run(until time: Double, observer: Observer = Observer()) {
        while let next = queue.first, next.time <= time { step(observer: observer) }
        now = max(now, time)
    }

    /// Handles the next event; false when none is left.
    @discardableResult
    package mutating func step(observer: Observer = Observer()) -> Bool {
        guard let entry = pop() else { return false }
        now = max(now, entry.time)
        let event: SchedulerEvent
        let effects: [CoreEffect]
        do {
            switch entry.occurrence {
            case .arrival(let task):
                guard alive.contains(task.client), inFlight[task.client] == task.updateID else {
                    deltas[task.updateID] = nil
                    return true
                }
                inFlight[task.client] = nil
                arrivals.append(task)
                let update = UpdateInfo(
                    id: task.updateID, client: task.client, baseVersion: task.baseVersion, steps: task.steps,
                    samples: clients[task.client]?.samples ?? 1)
                event = .updateArrived(update)
                let delta = deltas.removeValue(forKey: task.updateID) ?? zeroDelta
                effects = try core.updateArrived(update, delta: delta, now: now)
            case .timer(let timer):
                // A stale fire (re-armed or cancelled since) reaches no scheduler and leaves no trace.
                guard core.armedTimers.contains(timer) else { return true }
                event = .timerFired(timer.id)
                effects = try core.timerFired(timer, now: now)
            case .incident(.lose(let client)):
                alive.remove(client)
                if let id = inFlight.removeValue(forKey: client) { deltas[id] = nil }
                event = .lost(client)
                effects = try core.clientLost(client, now: now)
            case .incident(.join(let client)):
                alive.insert(client)
                if let id = inFlight.removeValue(forKey: client) { deltas[id] = nil }
                let samples = clients[client]?.samples ?? 1
                event = .joined(client, samples: samples)
                effects = try core.clientJoined(client, samples: samples, now: now)
            }
        } catch {
            // A simulation's deltas have the core's own size: a failure here is a bug.
            preconditionFailure("the aggregation core refused a simulated event: \(error)")
        }
        trace.append(TraceEntry(time: now, event: event, actions: core.lastSchedulerActions))
        perform(effects, observer: observer)
        return true
    }

    /// Calls the scheduler's `resume(now:)` (after ``scheduler`` was replaced) and performs its actions.
    package mutating func resumeScheduler(observer: Observer = Observer()) {
        do {
            perform(try core.resume(now: now), observer: observer)
        } catch {
            preconditionFailure("the aggregation core refused to resume: \(error)")
        }
    }

    private var zeroDelta: [Float] { [Float](repeating: 0, count: configuration.parameterCount) }

    private mutating func perform(_ effects: [CoreEffect], observer: Observer) {
        for effect in effects {
            switch effect {
            case .assign(let client, let steps):
                guard alive.contains(client), let profile = clients[client] else { continue }
                var factor = 1.0
                if configuration.jitter > 0 {
                    factor = max(0.05, generator.nextNormal(mean: 1, standardDeviation: configuration.jitter))
                }
                let duration = configuration.latency + Double(steps) * profile.secondsPerStep * factor
                let task = Task(
                    updateID: nextUpdateID, client: client, steps: steps, baseVersion: core.version,
                    assignedAt: now, arrivesAt: now + duration)
                nextUpdateID += 1
                if let previous = inFlight[client] { deltas[previous] = nil }
                inFlight[client] = task.updateID
                tasks.append(task)
                if let train = observer.train { deltas[task.updateID] = train(task, core.model) }
                push(.arrival(task), at: task.arrivesAt)
                observer.taskAssigned?(task)
            case .accumulated(let id, let bucket, let weight):
                accumulated[id] = BucketWeight(bucket: bucket, coefficient: weight)
                observer.updateAccumulated?(id, bucket, weight)
            case .discarded(let id, _):
                discarded.append(id)
            case .aggregated(let outcome):
                let record = AggregationRecord(time: now, aggregation: outcome.aggregation)
                aggregations.append(record)
                observer.aggregated?(record, outcome.model)
            case .setTimer(let timer, let at):
                push(.timer(timer), at: max(at, now))
            case .cancelTimer, .wait, .cohortNeeded:
                continue
            }
        }
    }

    // MARK: - Binary heap ordered by (time, sequence)

    private mutating func push(_ occurrence: Occurrence, at time: Double) {
        queue.append(Entry(time: time, sequence: sequence, occurrence: occurrence))
        sequence += 1
        var child = queue.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard queue[child].precedes(queue[parent]) else { break }
            queue.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func pop() -> Entry? {
        guard !queue.isEmpty else { return nil }
        queue.swapAt(0, queue.count - 1)
        let first = queue.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < queue.count, queue[left].precedes(queue[smallest]) { smallest = left }
            if right < queue.count, queue[right].precedes(queue[smallest]) { smallest = right }
            if smallest == parent { break }
            queue.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }
}
