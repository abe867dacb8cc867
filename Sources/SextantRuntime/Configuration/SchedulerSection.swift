import SextantScheduling

/// `scheduler:` — which algorithm orders the federation, and its parameters.
public struct SchedulerSection: Sendable, Codable {
    /// fedavg (synchronous rounds).
    public var kind = "fedavg"
    /// Clients that must join before training starts.
    public var minClients = 2
    /// Local steps per task.
    public var localSteps = 50
    /// Seconds a synchronous round waits for stragglers.
    public var roundTimeout = 300.0
    /// samples or equal.
    public var weighting = "samples"
    /// Probability that a client takes part in a FedAvg round.
    public var samplingRate = 1.0

    static let keys = KeySchema.map([
        "kind": .value, "min_clients": .value, "local_steps": .value, "round_timeout": .value,
        "weighting": .value, "sampling_rate": .value,
    ])

    enum CodingKeys: String, CodingKey {
        case kind, minClients = "min_clients", localSteps = "local_steps", roundTimeout = "round_timeout"
        case weighting, samplingRate = "sampling_rate"
    }

    public init() {}
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decodeIfPresent(String.self, forKey: .kind) ?? kind
        minClients = try c.decodeIfPresent(Int.self, forKey: .minClients) ?? minClients
        localSteps = try c.decodeIfPresent(Int.self, forKey: .localSteps) ?? localSteps
        roundTimeout = try c.decodeIfPresent(Double.self, forKey: .roundTimeout) ?? roundTimeout
        weighting = try c.decodeIfPresent(String.self, forKey: .weighting) ?? weighting
        samplingRate = try c.decodeIfPresent(Double.self, forKey: .samplingRate) ?? samplingRate
    }

    func validate() throws {
        guard kind == "fedavg" else { throw invalid("scheduler.kind", "'\(kind)'", "the available scheduler is fedavg") }
        guard minClients > 0 else { throw invalid("scheduler.min_clients", minClients, "it must be a positive integer") }
        guard localSteps > 0 else { throw invalid("scheduler.local_steps", localSteps, "it must be a positive integer") }
        guard roundTimeout > 0, roundTimeout.isFinite else {
            throw invalid("scheduler.round_timeout", roundTimeout, "it must be a positive number of seconds")
        }
        guard Weighting(rawValue: weighting) != nil else {
            throw invalid("scheduler.weighting", "'\(weighting)'", "use samples or equal")
        }
        guard samplingRate > 0, samplingRate <= 1 else {
            throw invalid("scheduler.sampling_rate", samplingRate, "it must lie in (0, 1]")
        }
    }

    /// The scheduler this section describes, starting at `version`.
    public func makeScheduler(seed: UInt64, version: Int = 0) throws -> any Scheduler {
        try validate()
        return FedAvgScheduler(
            configuration: .init(
                minimumClients: minClients, localSteps: localSteps, roundTimeout: roundTimeout,
                weighting: Weighting(rawValue: weighting)!, samplingRate: samplingRate, seed: seed),
            version: version)
    }

    /// Restores a scheduler from the state saved with a checkpoint.
    public func restoreScheduler(from snapshot: [UInt8]) throws -> any Scheduler {
        try FedAvgScheduler(restoring: .init(snapshot))
    }
}
