import SextantPrivacy
import SextantScheduling

/// What the aggregation core asks its driver (the daemon, the simulator, a test) to do
/// after an event, in order. The vector maths has already happened inside the core; these
/// are the parts that need I/O or a clock.
package enum CoreEffect: Sendable, Equatable {
    /// Send the current global model (``AggregationCore/model`` at ``AggregationCore/version``)
    /// to `client` with this many local steps.
    case assign(ClientID, localSteps: Int)
    /// Tell `client` to wait: it has no work now and will be assigned later.
    case wait(ClientID)
    /// Deliver ``AggregationCore/timerFired(_:now:)`` with `timer` at time `at`. A timer
    /// re-armed or cancelled since is stale when it fires, and the core ignores it.
    case setTimer(ScheduledTimer, at: Double)
    /// The timer with this id is no longer wanted (the driver may stop its clock for it).
    case cancelTimer(TimerID)
    /// The update's delta was added into `bucket` with `weight` (and released); for
    /// traces and status, nothing to do.
    case accumulated(updateID: Int64, bucket: BucketID, weight: Double)
    /// The update was dropped without being applied (mark it so in the store).
    case discarded(updateID: Int64, reason: String)
    /// The model moved to a new version: checkpoint it, with ``AggregationCore/snapshot()``.
    case aggregated(AggregationOutcome)
    /// Secure aggregation forms a cohort when the scheduler aggregates (docs/design.md 13):
    /// run it and hand its decoded sum, or its end, to
    /// ``AggregationCore/cohortEnded(version:sum:survivors:)``. The aggregation and the
    /// assignments after it wait until then.
    case cohortNeeded(CohortRequest)
}

/// A timer as the core arms it: its id and the generation of that arming, so that a fire
/// from an earlier arming is recognisably stale.
package struct ScheduledTimer: Sendable, Hashable {
    package var id: TimerID
    package var generation: UInt64

    package init(id: TimerID, generation: UInt64) {
        self.id = id
        self.generation = generation
    }
}

/// One aggregation as it was applied to the model.
package struct AggregationOutcome: Sendable, Equatable {
    /// The aggregation applied, with the differential-privacy noise bucket when there is one.
    package var aggregation: Aggregation
    /// The model this aggregation produced. Shares the core's storage (copy-on-write), so
    /// it costs nothing unless the core aggregates again before the driver lets it go.
    package var model: [Float]
    /// Client-level DP's account of the event (nil without client-level DP).
    package var privacy: ClientLevelPrivacy.EventOutcome?

    package var version: Int { aggregation.newVersion }
    package var updates: [AppliedUpdate] { aggregation.updates }
}
