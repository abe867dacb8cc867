import SextantAggregation
import SextantScheduling
import Testing

/// Floating-point tolerance for scheduler arithmetic: a few operations on values of order 1
/// (speeds, coefficients, weights), so 1e-12 leaves ~4 orders of magnitude over rounding.
let tolerance = 1e-12

extension [SchedulerAction] {
    var aggregations: [Aggregation] {
        compactMap { if case .aggregate(let a) = $0 { a } else { nil } }
    }

    /// (client, steps) of every assignment, in order.
    var assignments: [(client: ClientID, steps: Int)] {
        compactMap { if case .assign(let c, let q) = $0 { (c, q) } else { nil } }
    }

    func steps(for client: ClientID) -> Int? {
        assignments.last(where: { $0.client == client })?.steps
    }

    var accumulations: [(id: Int64, bucket: BucketID, weight: Double)] {
        compactMap { if case .accumulate(let id, let b, let w) = $0 { (id, b, w) } else { nil } }
    }

    var timers: [(id: TimerID, at: Double)] {
        compactMap { if case .setTimer(let id, let at) = $0 { (id, at) } else { nil } }
    }
}

/// A scheduler inside the aggregation core, with each update's delta given by the test, so
/// that a test sees both the scheduler's actions and the model's movement.
struct CoreRun<S: Scheduler> {
    var core: AggregationCore
    var deltas: [Int64: [Float]] = [:]

    init(_ scheduler: S, parameters: Int) {
        core = AggregationCore(scheduler: scheduler, model: [Float](repeating: 0, count: parameters))
    }

    var scheduler: S { core.scheduler as! S }
    var model: [Float] { core.model }

    /// Hands `event` to the core and returns what the scheduler answered.
    mutating func handle(_ event: SchedulerEvent, now: Double) throws -> [SchedulerAction] {
        switch event {
        case .updateArrived(let update):
            let delta = deltas[update.id] ?? [Float](repeating: 0, count: core.parameterCount)
            _ = try core.updateArrived(update, delta: delta, now: now)
        case .joined(let client, let samples):
            _ = try core.clientJoined(client, samples: samples, now: now)
        case .lost(let client):
            _ = try core.clientLost(client, now: now)
        case .timerFired, .modelApplied:
            Issue.record("deliver timers through the core's ScheduledTimer, and models through its cohorts")
        }
        return core.lastSchedulerActions
    }
}

func update(_ id: Int64, _ client: ClientID, base: Int, steps: Int = 0, samples: Int = 100) -> SchedulerEvent {
    .updateArrived(UpdateInfo(id: id, client: client, baseVersion: base, steps: steps, samples: samples))
}
