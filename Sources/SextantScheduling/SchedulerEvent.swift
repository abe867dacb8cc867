/// A client's identity as the scheduler knows it (the authenticated identity on the wire).
public typealias ClientID = String

/// What happened, as the server tells its scheduler. Times are seconds on the scheduler's
/// clock (wall clock in the daemon, virtual clock in the simulator).
public enum SchedulerEvent: Sendable, Equatable {
    /// A client joined (or rejoined after a restart) with this many training samples.
    case joined(ClientID, samples: Int)
    /// A client's update arrived. `id` names its delta, which the runtime keeps.
    case updateArrived(UpdateInfo)
    /// A timer the scheduler asked for has fired.
    case timerFired(TimerID)
    /// A client stopped answering or said goodbye.
    case lost(ClientID)
}

/// The facts about an arrived update that scheduling needs (its delta stays with the runtime).
public struct UpdateInfo: Sendable, Equatable, Codable {
    public var id: Int64
    public var client: ClientID
    public var baseVersion: Int
    public var steps: Int
    public var samples: Int

    public init(id: Int64, client: ClientID, baseVersion: Int, steps: Int, samples: Int) {
        self.id = id
        self.client = client
        self.baseVersion = baseVersion
        self.steps = steps
        self.samples = samples
    }
}

public typealias TimerID = String

/// Where the runtime accumulates weighted deltas until an aggregation uses them, so that
/// it never holds one model copy per client: updates sharing a bucket are summed at once.
public typealias BucketID = String
