import Foundation
import SextantScheduling

/// What the server asks of secure aggregation when a scheduler closes an arrival group
/// (Compass, docs/design.md 13): one cohort of the members it announced, each with the
/// weight its update carries in the aggregation (the bucket's coefficient times the
/// member's accumulate weight), so that the cohort's sum is the aggregation's whole step.
///
/// `Sendable`: a plain value.
package struct CohortRequest: Sendable, Equatable {
    package struct Member: Sendable, Equatable {
        /// The update id the announcement was given (its masked input is stored under it).
        package var updateID: Int64
        package var client: ClientID
        package var baseVersion: Int
        /// `alpha S(tau) p_i` for Compass: the member multiplies its clipped delta by it.
        package var weight: Double
    }

    /// The version the cohort's sum becomes.
    package var newVersion: Int
    /// By update id.
    package var members: [Member]
}

/// Secure aggregation where a cohort is formed when the scheduler aggregates (Compass's
/// arrival groups, docs/design.md 13). A member that finished training announces its update
/// without values (``AggregationCore/updateAnnounced(_:now:)``); the scheduler buffers it as
/// any update. Its `aggregate` becomes a ``CohortRequest`` and waits here, in order, for the
/// cohort's decoded sum; the assignments and waits the scheduler emitted after it wait with
/// it (they need the new model). A sum applies as the new version with coefficient 1; an
/// abandoned cohort advances the version with the model unchanged.
///
/// `Sendable`: a plain value.
struct GroupCohorts: Sendable {
    struct Waiting: Sendable {
        var planned: Aggregation
        /// The scheduler's snapshot at the aggregation (nil if it had moved on already).
        var schedulerState: Data?
        /// Actions emitted after the aggregation, released once it is applied.
        var deferred: [SchedulerAction] = []
        /// Set when the cohort ends: its sum and the survivors' update ids, or nil (abandoned).
        var outcome: (sum: [Float], survivors: Set<Int64>)??
    }

    /// Whether aggregations become cohort requests (set by the driver under secure
    /// aggregation with a scheduler that forms cohorts when it aggregates).
    var isActive = false
    /// Announced updates not yet accumulated, discarded or aggregated.
    var announced: [Int64: UpdateInfo] = [:]
    /// Accumulated announced updates, by bucket.
    var buffered: [BucketID: [(update: UpdateInfo, weight: Double)]] = [:]
    /// Aggregations waiting for their cohort's sum, oldest first.
    var waiting: [Waiting] = []
    /// The scheduler snapshot of the aggregation applied last, while a later one waits.
    var appliedSchedulerState: Data?

    func holds(_ id: Int64) -> Bool { announced[id] != nil }

    /// The cohort the planned aggregation needs: every announced update in its buckets.
    mutating func request(for planned: Aggregation) -> CohortRequest {
        var members: [CohortRequest.Member] = []
        for bucket in planned.buckets {
            for (update, weight) in buffered.removeValue(forKey: bucket.bucket) ?? [] {
                members.append(
                    .init(
                        updateID: update.id, client: update.client, baseVersion: update.baseVersion,
                        weight: bucket.coefficient * weight))
            }
        }
        return CohortRequest(newVersion: planned.newVersion, members: members.sorted { $0.updateID < $1.updateID })
    }
}

extension AggregationCore {
    /// Under secure aggregation with a scheduler that forms cohorts when it aggregates
    /// (Compass): a member's update is trained and its claim checked (``refusal(of:)``), but
    /// its values stay with the member until its group's cohort sums them. The scheduler
    /// sees an ordinary arrival.
    package mutating func updateAnnounced(_ update: UpdateInfo, now: Double) throws(CoreError) -> [CoreEffect] {
        guard !groupCohorts.holds(update.id), delivered.insert(update.id).inserted else { return [] }
        answerTask(of: update)
        groupCohorts.announced[update.id] = update
        return try deliver(.updateArrived(update), now: now)
    }

    /// Whether each aggregation is a cohort's sum, formed when the scheduler aggregates
    /// (Compass under secure aggregation): an `aggregate` becomes ``CoreEffect/cohortNeeded(_:)``.
    package var formsCohortsAtAggregation: Bool {
        get { groupCohorts.isActive }
        set { groupCohorts.isActive = newValue }
    }

    /// Aggregations waiting for a cohort's sum.
    package var waitingCohorts: [Int] { groupCohorts.waiting.map(\.planned.newVersion) }

    /// The cohort of the aggregation to `version` ended: `sum` is its decoded sum of the
    /// survivors' weighted deltas (`survivors`: their update ids), or nil when it was
    /// abandoned. If it is the oldest waiting, it is applied now, followed by the actions
    /// that waited for it; a later one waits for those before it. Each call applies at most
    /// one aggregation, since the driver sends an assignment with the model it holds when it
    /// carries the assignment out: while ``hasEndedCohort``, call ``applyEndedCohort(now:)``.
    package mutating func cohortEnded(
        version: Int, sum: [Float]?, survivors: Set<Int64> = [], now: Double
    ) throws(CoreError) -> [CoreEffect] {
        guard let index = groupCohorts.waiting.firstIndex(where: { $0.planned.newVersion == version }) else {
            throw CoreError(.cohortMismatch, "no aggregation to version \(version) waits for a cohort")
        }
        guard groupCohorts.waiting[index].outcome == nil else {
            throw CoreError(.cohortMismatch, "the cohort of version \(version) has ended already")
        }
        if let sum, sum.count != parameterCount {
            throw CoreError(.wrongSize, "a cohort sum of \(sum.count) values, the model has \(parameterCount)")
        }
        groupCohorts.waiting[index].outcome = .some(sum.map { ($0, survivors) })
        return try applyEndedCohort(now: now)
    }

    /// Whether the oldest waiting aggregation's cohort has ended (``applyEndedCohort(now:)``).
    package var hasEndedCohort: Bool { groupCohorts.waiting.first?.outcome != nil }

    /// Applies the oldest waiting aggregation if its cohort has ended: its sum as the new
    /// version with coefficient 1, or (abandoned) the version with the model unchanged;
    /// then the assignments and waits that waited for it, and the scheduler hears that the
    /// model exists (``SchedulerEvent/modelApplied(version:)``: Compass gives out the tasks
    /// it held back, timed from now).
    package mutating func applyEndedCohort(now: Double) throws(CoreError) -> [CoreEffect] {
        guard let first = groupCohorts.waiting.first, let outcome = first.outcome else { return [] }
        groupCohorts.waiting.removeFirst()
        groupCohorts.appliedSchedulerState = groupCohorts.waiting.isEmpty ? nil : first.schedulerState
        var aggregation = first.planned
        aggregation.serverMomentum = nil
        if let (sum, survivors) = outcome {
            let bucket = "cohort-v\(aggregation.newVersion)"
            sum.withUnsafeBufferPointer { accumulator.accumulate($0, weight: 1, into: bucket) }
            aggregation.buckets = [BucketWeight(bucket: bucket, coefficient: 1)]
            aggregation.updates = aggregation.updates.filter { survivors.contains($0.id) }
            model.withUnsafeMutableBufferPointer { optimizer.apply(aggregation, accumulator: &accumulator, to: $0) }
        } else {
            // Abandoned: nothing was unmasked; the version advances with the model as it was.
            aggregation.buckets = []
            aggregation.updates = []
        }
        let applied: [CoreEffect] = [
            .aggregated(AggregationOutcome(aggregation: aggregation, model: model, privacy: nil))
        ]
        return try applied + release(first.deferred)
            + deliver(.modelApplied(version: aggregation.newVersion), now: now)
    }
}
