/// A client's identity as the scheduler knows it (the authenticated identity on the wire).
package typealias ClientID = String

/// What happened, as the server tells its scheduler. Times are seconds on the scheduler's
/// clock (wall clock in the daemon, virtual clock in the simulator).
package enum SchedulerEvent: Sendable, Equatable {
    /// A client joined (or rejoined after a restart) with this many training samples.
    case joined(ClientID, samples: Int)
    /// A client's update arrived. `id` names its delta, which the runtime keeps.
    case updateArrived(UpdateInfo)
    /// A timer the scheduler asked for has fired.
    case timerFired(TimerID)
    /// A client stopped answering or said goodbye.
    case lost(ClientID)
    /// The model of `version` exists now: an aggregation that waited for its secure
    /// aggregation cohort's sum was applied (docs/design.md 13). A scheduler that holds
    /// tasks back until the model they train from exists gives them out now.
    case modelApplied(version: Int)
}

/// The facts about an arrived update that scheduling needs (its delta stays with the runtime).
package struct UpdateInfo: Sendable, Equatable, Codable {
    package var id: Int64
    package var client: ClientID
    package var baseVersion: Int
    package var steps: Int
    package var samples: Int

    package init(id: Int64, client: ClientID, baseVersion: Int, steps: Int, samples: Int) {
        self.id = id
        self.client = client
        self.baseVersion = baseVersion
        self.steps = steps
        self.samples = samples
    }
}

package typealias TimerID = String

/// Where the runtime accumulates weighted deltas until an aggregation uses them, so that
/// it never holds one model copy per client: updates sharing a bucket are summed at once.
package typealias BucketID = String
