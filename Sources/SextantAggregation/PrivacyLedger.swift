import SextantPrivacy
import SextantScheduling

/// Remembers, between an update's arrival and its aggregation, what client-level privacy
/// needs to know about it: its client, the clip norm it was held to, whether it fit under
/// it, and the bucket and weight it was accumulated with. At an aggregation it turns the
/// aggregation's buckets into ``ClientLevelPrivacy/Contribution``s with their effective
/// coefficients `c_i = bucket coefficient × weight`.
///
/// Not checkpointed: like ``DeltaAccumulator``'s partial sums, it is rebuilt when a
/// restarted server replays its acknowledged, unaggregated updates.
///
/// `Sendable`: a plain value.
package struct PrivacyLedger: Sendable {
    struct Entry: Sendable {
        var client: String
        var clipNorm: Double
        var unclipped: Bool
        var bucket: BucketID?
        var weight = 0.0
    }

    private var entries: [Int64: Entry] = [:]

    package init() {}

    /// Updates known and not yet aggregated or discarded.
    package var count: Int { entries.count }

    /// An update arrived (or was replayed) and was admitted.
    package mutating func arrived(updateID: Int64, client: String, admission: ClientLevelPrivacy.Admission) {
        entries[updateID] = Entry(client: client, clipNorm: admission.clipNorm, unclipped: admission.unclipped)
    }

    /// The scheduler accumulated the update into `bucket` with `weight`.
    package mutating func accumulated(updateID: Int64, bucket: BucketID, weight: Double) {
        entries[updateID]?.bucket = bucket
        entries[updateID]?.weight = weight
    }

    /// The scheduler discarded the update.
    package mutating func discarded(updateID: Int64) {
        entries[updateID] = nil
    }

    /// The contributions of the updates in `aggregation`'s buckets, which are then forgotten.
    /// Call it before the buckets are applied.
    package mutating func contributions(for aggregation: Aggregation) -> [ClientLevelPrivacy.Contribution] {
        var coefficients: [BucketID: Double] = [:]
        for bucket in aggregation.buckets { coefficients[bucket.bucket, default: 0] += bucket.coefficient }
        var result: [ClientLevelPrivacy.Contribution] = []
        for (id, entry) in entries.sorted(by: { $0.key < $1.key }) {
            guard let bucket = entry.bucket, let coefficient = coefficients[bucket] else { continue }
            result.append(
                ClientLevelPrivacy.Contribution(
                    client: entry.client, coefficient: coefficient * entry.weight, clipNorm: entry.clipNorm,
                    unclipped: entry.unclipped))
            entries[id] = nil
        }
        return result
    }
}

extension ClientLevelPrivacy {
    /// The bucket that carries an event's noise.
    package static func noiseBucket(version: Int) -> BucketID { "dp-noise-v\(version)" }

    /// The whole server-side step for one aggregation, before it is applied: takes the
    /// event's contributions from `ledger`, ends the event (noise, adaptive C, accounting)
    /// and, when the server adds noise, puts the noise in its own bucket of `accumulator`
    /// with coefficient 1, so that `ServerOptimizer.apply` adds it to g (before momentum).
    /// Returns the aggregation to apply in place of `aggregation`.
    package mutating func privatize<G: RandomNumberGenerator>(
        _ aggregation: Aggregation, ledger: inout PrivacyLedger, accumulator: inout DeltaAccumulator,
        using generator: inout G
    ) throws(PrivacyError) -> (aggregation: Aggregation, outcome: EventOutcome) {
        let contributions = ledger.contributions(for: aggregation)
        var noise = [Float](repeating: 0, count: accumulator.parameterCount)
        let outcome = try noise.withUnsafeMutableBufferPointer { (buffer) throws(PrivacyError) -> EventOutcome in
            try finishEvent(
                newVersion: aggregation.newVersion, contributions: contributions, noise: buffer, using: &generator)
        }
        guard outcome.noiseStandardDeviation > 0 else { return (aggregation, outcome) }
        let bucket = Self.noiseBucket(version: aggregation.newVersion)
        noise.withUnsafeBufferPointer { accumulator.accumulate($0, weight: 1, into: bucket) }
        var noised = aggregation
        noised.buckets.append(BucketWeight(bucket: bucket, coefficient: 1))
        return (noised, outcome)
    }

    /// ``privatize(_:ledger:accumulator:using:)`` with noise from the OS's secure generator.
    package mutating func privatize(
        _ aggregation: Aggregation, ledger: inout PrivacyLedger, accumulator: inout DeltaAccumulator
    ) throws(PrivacyError) -> (aggregation: Aggregation, outcome: EventOutcome) {
        var generator = try SecureRandom()
        return try privatize(aggregation, ledger: &ledger, accumulator: &accumulator, using: &generator)
    }
}
