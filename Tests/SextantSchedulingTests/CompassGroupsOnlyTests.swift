import Foundation
import Testing

@testable import SextantScheduling

/// Compass under secure aggregation (`groupsOnly`, docs/design.md 13): every aggregation is
/// an arrival group's, so that every sum is a cohort's. First tasks form a group whose first
/// arrival sets its deadline, and a late update is discarded.
@Suite struct CompassGroupsOnlyTests {
    /// Three clients of 100 samples each, started together at t = 0 with Qmax = 100 steps.
    func started() -> CompassScheduler {
        var s = CompassScheduler(configuration: .init(minimumClients: 3, groupsOnly: true))
        _ = s.handle(.joined("a", samples: 100), now: 0)
        _ = s.handle(.joined("b", samples: 100), now: 0)
        _ = s.handle(.joined("c", samples: 100), now: 0)
        return s
    }

    @Test func firstTasksFormOneGroupWithNoDeadlineUntilItsFirstArrival() {
        var s = CompassScheduler(configuration: .init(minimumClients: 3, groupsOnly: true))
        _ = s.handle(.joined("a", samples: 100), now: 0)
        _ = s.handle(.joined("b", samples: 100), now: 0)
        let start = s.handle(.joined("c", samples: 100), now: 0)
        #expect(start == [.assign("a", localSteps: 100), .assign("b", localSteps: 100), .assign("c", localSteps: 100)])
        #expect(s.arrivalGroups.map(\.pending) == [["a", "b", "c"]])
        // Nothing expires while no member has arrived, however long the first task takes.
        #expect(s.handle(.lost("zz"), now: 10_000).isEmpty)
        #expect(s.arrivalGroups.first?.isOpen == true)
    }

    @Test func theFirstArrivalIsNeverAggregatedAlone() throws {
        var s = started()
        let first = s.handle(update(1, "a", base: 0), now: 100)
        // The deadline: lambda (1.5) times the 100 s since the group opened.
        #expect(first == [.setTimer("group-0", at: 150), .accumulate(updateID: 1, bucket: "g0-v0", weight: 1.0 / 3)])
        #expect(s.version == 0)
        _ = s.handle(update(2, "b", base: 0), now: 120)
        let last = s.handle(update(3, "c", base: 0), now: 140)
        #expect(
            last.aggregations == [
                Aggregation(
                    newVersion: 1, buckets: [BucketWeight(bucket: "g0-v0", coefficient: 0.9)],
                    updates: [
                        AppliedUpdate(id: 1, client: "a", staleness: 0),
                        AppliedUpdate(id: 2, client: "b", staleness: 0),
                        AppliedUpdate(id: 3, client: "c", staleness: 0),
                    ])
            ])
        // The new model exists once the cohort's sum is decoded: the tasks wait for it.
        #expect(last.assignments.isEmpty)
        #expect(s.version == 1)
        // Then every member, fastest first, is given a group and steps, timed from then.
        let tasks = s.handle(.modelApplied(version: 1), now: 145)
        #expect(tasks.assignments.map(\.client) == ["a", "b", "c"])
        let group = try #require(s.arrivalGroups.last)
        let q = Double(try #require(tasks.steps(for: "a")))
        // a's speed: 100 s for 100 steps, 1 s per step.
        #expect(abs(group.expectedArrival - (145 + q)) < tolerance)
    }

    @Test func aModelAppliedBeforeTheLatestAggregationReleasesNothing() {
        var s = started()
        _ = s.handle(update(1, "a", base: 0), now: 100)
        _ = s.handle(update(2, "b", base: 0), now: 110)
        _ = s.handle(update(3, "c", base: 0), now: 120)
        #expect(s.handle(.modelApplied(version: 0), now: 121).isEmpty)
        #expect(s.handle(.modelApplied(version: 1), now: 122).assignments.count == 3)
        // Tasks go out at once again while no aggregation waits.
        _ = s.handle(.lost("a"), now: 123)
        #expect(s.handle(.joined("a", samples: 100), now: 124).assignments.map(\.client) == ["a"])
    }

    @Test func aLateUpdateIsDiscardedAndItsClientGetsANewTask() {
        var s = started()
        _ = s.handle(update(1, "a", base: 0), now: 100)
        _ = s.handle(update(2, "b", base: 0), now: 110)
        let deadline = s.handle(.timerFired("group-0"), now: 150)
        #expect(deadline.aggregations.map { $0.updates.map(\.id) } == [[1, 2]])
        let late = s.handle(update(3, "c", base: 0), now: 160)
        #expect(
            late.first == .discard(updateID: 3, reason: "late for its arrival group, whose cohort is summed without it")
        )
        #expect(late.accumulations.isEmpty && late.aggregations.isEmpty)
        #expect(s.lateUpdates.isEmpty)
        #expect(s.version == 1)
        // c's new task, like a's and b's, waits for the model of version 1.
        #expect(late.steps(for: "c") == nil)
        #expect(s.handle(.modelApplied(version: 1), now: 170).assignments.map(\.client).sorted() == ["a", "b", "c"])
    }

    @Test func anUpdateWithoutAGroupIsDiscardedInsteadOfAggregatedAlone() {
        var s = started()
        // c rejoins: it lost its task, and its old group's member with it.
        _ = s.handle(.lost("c"), now: 50)
        _ = s.handle(.joined("c", samples: 100), now: 60)
        let stray = s.handle(update(9, "zz", base: 0, samples: 100), now: 70)
        #expect(
            stray.first
                == .discard(updateID: 9, reason: "late for its arrival group, whose cohort is summed without it"))
        #expect(stray.aggregations.isEmpty)
    }

    @Test func theRuleAndTheGroupOfFirstTasksSurviveASnapshot() throws {
        var s = started()
        _ = s.handle(update(1, "a", base: 0), now: 100)
        var restored = try CompassScheduler(restoring: try s.snapshot())
        #expect(restored.configuration.groupsOnly == true)
        let resumed = restored.resume(now: 1000)
        // The deadline, shifted to the new clock: 150 - 100 + 1000.
        #expect(resumed.timers.map(\.at) == [1050])
        #expect(restored.arrivalGroups.map(\.arrived) == [["a"]])
    }

    @Test func withoutTheRuleTheFirstArrivalIsStillAggregatedAlone() {
        var s = CompassScheduler(configuration: .init(minimumClients: 3))
        for client in ["a", "b", "c"] { _ = s.handle(.joined(client, samples: 100), now: 0) }
        #expect(s.handle(update(1, "a", base: 0), now: 100).aggregations.count == 1)
    }
}
