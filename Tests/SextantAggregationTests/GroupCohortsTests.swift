import Foundation
import SextantScheduling
import Testing

@testable import SextantAggregation

/// Cohorts formed when the scheduler aggregates (Compass under secure aggregation,
/// docs/design.md 13): announced updates carry no values; an aggregation waits, with the
/// assignments after it, for its cohort's sum, in order; an abandoned cohort advances the
/// version with the model unchanged.
@Suite struct GroupCohortsTests {
    /// A scheduler that answers each event with the next scripted actions and counts its
    /// aggregations as versions.
    struct ScriptedScheduler: Scheduler {
        var script: [[SchedulerAction]]
        var version = 0

        mutating func handle(_ event: SchedulerEvent, now: Double) -> [SchedulerAction] {
            if case .modelApplied = event { return [] }
            guard !script.isEmpty else { return [] }
            let actions = script.removeFirst()
            version += actions.filter { if case .aggregate = $0 { true } else { false } }.count
            return actions
        }

        mutating func resume(now: Double) -> [SchedulerAction] { [] }
        func snapshot() throws -> Data { Data("v\(version)".utf8) }
        mutating func limitClaims(_ limits: ClaimLimits) {}
    }

    static func update(_ id: Int64, _ client: ClientID) -> UpdateInfo {
        UpdateInfo(id: id, client: client, baseVersion: 0, steps: 5, samples: 100)
    }

    static func aggregation(_ version: Int, _ bucket: BucketID, _ coefficient: Double, _ ids: [Int64]) -> Aggregation {
        Aggregation(
            newVersion: version, buckets: [BucketWeight(bucket: bucket, coefficient: coefficient)],
            updates: ids.map { AppliedUpdate(id: $0, client: "x", staleness: 0) })
    }

    /// Three announced members: a and b close group g (version 1), then c closes group h
    /// (version 2); the assignments after each aggregation wait with it.
    static func twoWaitingAggregations() throws -> (AggregationCore, [[CoreEffect]]) {
        let scheduler = ScriptedScheduler(script: [
            [.accumulate(updateID: 1, bucket: "g", weight: 0.5)],
            [
                .accumulate(updateID: 2, bucket: "g", weight: 0.25), .aggregate(aggregation(1, "g", 0.8, [1, 2])),
                .assign("a", localSteps: 5),
            ],
            [
                .accumulate(updateID: 3, bucket: "h", weight: 1), .aggregate(aggregation(2, "h", 0.5, [3])),
                .assign("b", localSteps: 6), .wait("c"),
            ],
        ])
        var core = AggregationCore(scheduler: scheduler, model: [1, 2])
        core.formsCohortsAtAggregation = true
        var effects: [[CoreEffect]] = []
        for (id, client) in [(Int64(1), "a"), (2, "b"), (3, "c")] {
            effects.append(try core.updateAnnounced(update(id, client), now: 0))
        }
        return (core, effects)
    }

    @Test func anAggregationBecomesACohortRequestWithEachMembersWholeWeight() throws {
        let (core, effects) = try Self.twoWaitingAggregations()
        #expect(
            effects[1].last
                == .cohortNeeded(
                    CohortRequest(
                        newVersion: 1,
                        members: [
                            .init(updateID: 1, client: "a", baseVersion: 0, weight: 0.4),
                            .init(updateID: 2, client: "b", baseVersion: 0, weight: 0.2),
                        ])))
        #expect(
            effects[2].last
                == .cohortNeeded(
                    CohortRequest(
                        newVersion: 2, members: [.init(updateID: 3, client: "c", baseVersion: 0, weight: 0.5)])))
        // Nothing that needs the new model leaves, and the model's version has not moved.
        for list in effects {
            #expect(!list.contains { if case .assign = $0 { true } else if case .wait = $0 { true } else { false } })
            #expect(!list.contains { if case .aggregated = $0 { true } else { false } })
        }
        #expect(core.version == 0 && core.scheduler.version == 2)
        #expect(core.waitingCohorts == [1, 2])
        // The tasks are recorded for the versions they will train from.
        #expect(core.task(of: "a") == .init(version: 1, steps: 5))
        #expect(core.task(of: "b") == .init(version: 2, steps: 6))
    }

    @Test func sumsApplyInOrderWithCoefficientOneAndAnAbandonedCohortKeepsTheModel() throws {
        var (core, _) = try Self.twoWaitingAggregations()
        // The later cohort's sum waits for the earlier one.
        #expect(try core.cohortEnded(version: 2, sum: [10, 20], survivors: [3], now: 1).isEmpty)
        #expect(core.version == 0 && core.model == [1, 2])
        // One aggregation per call: the driver sends each assignment with the model it holds.
        let firstEffects = try core.cohortEnded(version: 1, sum: nil, now: 1)
        #expect(firstEffects.count == 2 && core.version == 1 && core.hasEndedCohort)
        let effects = try firstEffects + core.applyEndedCohort(now: 2)
        #expect(try !core.hasEndedCohort && core.applyEndedCohort(now: 2).isEmpty)
        #expect(effects.count == 5)
        guard case .aggregated(let first) = effects[0], case .aggregated(let second) = effects[2] else {
            Issue.record("expected two aggregations, got \(effects)")
            return
        }
        #expect(first.version == 1 && first.model == [1, 2] && first.updates.isEmpty)
        #expect(effects[1] == .assign("a", localSteps: 5))
        // The sum is the whole step: added once, with coefficient 1.
        #expect(second.version == 2 && second.model == [11, 22])
        #expect(second.aggregation.buckets == [BucketWeight(bucket: "cohort-v2", coefficient: 1)])
        #expect(second.updates.map(\.id) == [3])
        #expect(Array(effects[3...]) == [.assign("b", localSteps: 6), .wait("c")])
        #expect(core.version == 2 && core.waitingCohorts.isEmpty)
    }

    @Test func onlyTheSurvivorsAreRecordedAsApplied() throws {
        var (core, _) = try Self.twoWaitingAggregations()
        let effects = try core.cohortEnded(version: 1, sum: [0.5, 0.5], survivors: [2], now: 1)
        guard case .aggregated(let outcome) = effects.first else {
            Issue.record("expected an aggregation, got \(effects)")
            return
        }
        #expect(outcome.updates.map(\.id) == [2])
        #expect(outcome.model == [1.5, 2.5])
        #expect(core.version == 1 && core.waitingCohorts == [2])
    }

    @Test func aSecondEndOrAnUnknownVersionOrAWrongLengthIsRefused() throws {
        var (core, _) = try Self.twoWaitingAggregations()
        #expect(throws: CoreError.self) { try core.cohortEnded(version: 7, sum: nil, now: 1) }
        #expect(throws: CoreError.self) { try core.cohortEnded(version: 1, sum: [1, 2, 3], now: 1) }
        _ = try core.cohortEnded(version: 2, sum: nil, now: 1)
        #expect(throws: CoreError.self) { try core.cohortEnded(version: 2, sum: nil, now: 1) }
        #expect(core.version == 0)
    }

    @Test func aDiscardedAnnouncementLeavesNothingBehind() throws {
        let scheduler = ScriptedScheduler(script: [[.discard(updateID: 1, reason: "late")]])
        var core = AggregationCore(scheduler: scheduler, model: [0])
        core.formsCohortsAtAggregation = true
        let effects = try core.updateAnnounced(Self.update(1, "a"), now: 0)
        #expect(effects == [.discarded(updateID: 1, reason: "late")])
        #expect(core.pendingCount == 0)
        // Announced twice: the second is ignored.
        #expect(try core.updateAnnounced(Self.update(1, "a"), now: 1).isEmpty)
    }
}
