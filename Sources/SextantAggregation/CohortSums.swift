import SextantScheduling

/// Secure aggregation's sums as the aggregation core holds them (docs/design.md 13): the
/// server never has a member's delta, only the decoded sum of the cohort's deltas, each of
/// which its member multiplied by the weight the scheduler gave it at assignment. Each
/// member's update still reaches the scheduler (which counts arrivals, staleness and
/// speeds); when the scheduler accumulates a member, the core checks that the weight is the
/// one the member used, and adds the cohort's sum once, with weight 1, into the first
/// member's bucket. A scheduler that discards a member, weighs it otherwise or puts members
/// in different buckets is refused: the sum cannot be split.
///
/// `Sendable`: a plain value.
package struct CohortSums: Sendable {
    struct Sum: Sendable {
        var values: [Float]
        var remaining: Set<Int64>
        var bucket: BucketID?
    }

    /// The cohort each member update stands in, and the weight the member used.
    private var members: [Int64: (cohort: Int64, weight: Double)] = [:]
    /// By cohort key (its first member's update id).
    private var sums: [Int64: Sum] = [:]

    package init() {}

    /// Whether `update` is a member of a cohort whose sum waits for the scheduler.
    package func holds(_ update: Int64) -> Bool { members[update] != nil }

    /// Cohorts whose sum has not yet been accumulated in full.
    package var openCount: Int { sums.count }

    mutating func register(_ weighted: [(update: UpdateInfo, weight: Double)], sum: [Float]) {
        let key = weighted[0].update.id
        sums[key] = Sum(values: sum, remaining: Set(weighted.map(\.update.id)))
        for (update, weight) in weighted { members[update.id] = (key, weight) }
    }

    mutating func accumulate(
        _ id: Int64, bucket: BucketID, weight: Double, into accumulator: inout DeltaAccumulator
    ) throws(CoreError) {
        guard let (cohort, used) = members.removeValue(forKey: id), var sum = sums[cohort] else { return }
        guard abs(weight - used) <= 1e-9 * max(1, abs(used)) else {
            throw CoreError(
                .cohortMismatch,
                "the scheduler weighs update \(id) by \(weight), but its member multiplied its delta by \(used)")
        }
        if let first = sum.bucket {
            guard first == bucket else {
                throw CoreError(
                    .cohortMismatch, "the scheduler puts update \(id) in \(bucket), its cohort's sum is in \(first)")
            }
        } else {
            sum.bucket = bucket
            sum.values.withUnsafeBufferPointer { accumulator.accumulate($0, weight: 1, into: bucket) }
        }
        sum.remaining.remove(id)
        sums[cohort] = sum.remaining.isEmpty ? nil : sum
    }
}

extension AggregationCore {
    /// A cohort's decoded sum arrived under secure aggregation: `sum` is the sum of the
    /// members' deltas, each multiplied by its `weight` (the scheduler's
    /// ``Scheduler/contributionWeight(of:)`` at assignment). Each member's update is handed
    /// to the scheduler in turn; the sum enters the accumulator once (``CohortSums``).
    ///
    /// Refused before anything changes when the sum is of fewer than two members, of the
    /// wrong length, or when a member's update answers no task (``refusal(of:)``).
    package mutating func cohortArrived(
        _ weighted: [(update: UpdateInfo, weight: Double)], sum: [Float], now: Double
    ) throws(CoreError) -> [CoreEffect] {
        guard weighted.count >= 2 else {
            throw CoreError(.cohortMismatch, "a cohort sum of \(weighted.count) members would be an update")
        }
        guard sum.count == parameterCount else {
            throw CoreError(.wrongSize, "a cohort sum of \(sum.count) values, the model has \(parameterCount)")
        }
        for (update, _) in weighted {
            if let refusal = refusal(of: update) {
                throw CoreError(.cohortMismatch, "cohort member refused: \(refusal.message)")
            }
        }
        cohorts.register(weighted, sum: sum)
        var effects: [CoreEffect] = []
        for (update, _) in weighted {
            effects += try deliverMember(update, now: now)
        }
        return effects
    }
}
