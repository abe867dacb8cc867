/// What the scheduler asks the server to do, in order.
package enum SchedulerAction: Sendable, Equatable {
    /// Send the current global model to `client` with this many local steps.
    case assign(ClientID, localSteps: Int)
    /// Add `weight * delta(update)` into `bucket`; the delta itself may then be released.
    case accumulate(updateID: Int64, bucket: BucketID, weight: Double)
    /// Drop an update without applying it (its base model is unusable, or it was not expected).
    case discard(updateID: Int64, reason: String)
    /// `w += sum(coefficient * bucket)`, then the model version goes up by one. The listed
    /// updates are thereby applied, each with its staleness.
    case aggregate(Aggregation)
    /// Call back with `.timerFired(id)` at time `at` (replacing a pending timer of that id).
    case setTimer(TimerID, at: Double)
    case cancelTimer(TimerID)
    /// Tell `client` to wait: it has no work now and will be assigned later.
    case wait(ClientID)
}

package struct Aggregation: Sendable, Equatable, Codable {
    /// The version the model will have after this aggregation.
    package var newVersion: Int
    package var buckets: [BucketWeight]
    package var updates: [AppliedUpdate]
    /// Server momentum `beta` (FedAvgM), or nil for a plain step. With momentum the runtime
    /// keeps a velocity `v` (zero at the start, saved with checkpoints) and does
    /// `g = sum(coefficient * bucket); v = beta * v + g; w += v` instead of `w += g`;
    /// ``ServerOptimizer`` implements exactly this.
    package var serverMomentum: Double?

    package init(newVersion: Int, buckets: [BucketWeight], updates: [AppliedUpdate], serverMomentum: Double? = nil) {
        self.newVersion = newVersion
        self.buckets = buckets
        self.updates = updates
        self.serverMomentum = serverMomentum
    }
}

package struct BucketWeight: Sendable, Equatable, Codable {
    package var bucket: BucketID
    package var coefficient: Double

    package init(bucket: BucketID, coefficient: Double) {
        self.bucket = bucket
        self.coefficient = coefficient
    }
}

package struct AppliedUpdate: Sendable, Equatable, Codable {
    package var id: Int64
    package var client: ClientID
    package var staleness: Int

    package init(id: Int64, client: ClientID, staleness: Int) {
        self.id = id
        self.client = client
        self.staleness = staleness
    }
}
