import SextantScheduling

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

/// Carries out accumulate/aggregate actions on a real `DeltaAccumulator`, with each update's
/// delta given by the test, so the model's movement can be compared with the formula.
struct ActionExecutor {
    var accumulator: DeltaAccumulator
    var model: [Float]
    var deltas: [Int64: [Float]] = [:]

    init(parameters: Int) {
        accumulator = DeltaAccumulator(parameterCount: parameters)
        model = [Float](repeating: 0, count: parameters)
    }

    mutating func perform(_ actions: [SchedulerAction]) {
        for action in actions {
            switch action {
            case .accumulate(let id, let bucket, let weight):
                let delta = deltas[id]!
                delta.withUnsafeBufferPointer { accumulator.accumulate($0, weight: weight, into: bucket) }
            case .aggregate(let aggregation):
                model.withUnsafeMutableBufferPointer { accumulator.apply(aggregation.buckets, to: $0) }
            default:
                continue
            }
        }
    }
}

func update(_ id: Int64, _ client: ClientID, base: Int, steps: Int = 0, samples: Int = 100) -> SchedulerEvent {
    .updateArrived(UpdateInfo(id: id, client: client, baseVersion: base, steps: steps, samples: samples))
}
