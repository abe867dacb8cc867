import Foundation
import SextantAggregation
import SextantBase
import Testing

@testable import SextantScheduling

@Suite struct CompassSchedulerTests {
    static let a2 = 0.9 * pow(2, -0.5)  // alpha * S(1) with the default polynomial a = 0.5

    /// Two clients, a at 1 s/step and b at 2 s/step, equal samples, both started at t = 0.
    func started() -> CompassScheduler {
        var s = CompassScheduler(configuration: .init(minimumClients: 2))
        _ = s.handle(.joined("a", samples: 100), now: 0)
        _ = s.handle(.joined("b", samples: 100), now: 0)
        return s
    }

    /// Continues `started()` to t = 350: a and b in group 1 (Ta 350, Tmax 425), a arrived
    /// with update 5 (base 4), b pending with its task from version 2. Version 4.
    func groupWithOnePending() -> CompassScheduler {
        var s = started()
        _ = s.handle(update(1, "a", base: 0), now: 100)  // v1; a: group 0, Q 100, Ta 200
        _ = s.handle(update(2, "b", base: 0), now: 200)  // v2; b: group 1, Q 75, Ta 350, Tmax 425
        _ = s.handle(update(3, "a", base: 1), now: 200)  // group 0 aggregated: v3; a: group 2, Q 100
        let joined = s.handle(update(4, "a", base: 3), now: 300)  // v4; a joins group 1
        precondition(joined.steps(for: "a") == 50)
        _ = s.handle(update(5, "a", base: 4), now: 350)
        return s
    }

    @Test func startsEveryoneWithQmaxOnceEnoughHaveJoined() {
        var s = CompassScheduler(configuration: .init(minimumClients: 2))
        #expect(s.handle(.joined("a", samples: 100), now: 0) == [.wait("a")])
        #expect(
            s.handle(.joined("b", samples: 300), now: 1) == [
                .assign("a", localSteps: 100), .assign("b", localSteps: 100),
            ])
        #expect(s.handle(.joined("c", samples: 100), now: 2) == [.assign("c", localSteps: 100)])
    }

    @Test func firstArrivalIsAggregatedAlone() {
        var s = CompassScheduler(configuration: .init(minimumClients: 2))
        _ = s.handle(.joined("a", samples: 100), now: 0)
        _ = s.handle(.joined("b", samples: 300), now: 0)
        let first = s.handle(update(1, "a", base: 0), now: 100)
        #expect(
            first == [
                .accumulate(updateID: 1, bucket: "solo-u1", weight: 0.25),
                .aggregate(
                    Aggregation(
                        newVersion: 1, buckets: [BucketWeight(bucket: "solo-u1", coefficient: 0.9)],
                        updates: [AppliedUpdate(id: 1, client: "a", staleness: 0)])),
                .assign("a", localSteps: 100), .setTimer("group-0", at: 250),
            ])
        #expect(s.version == 1)

        // b's first update is one version stale, aggregated alone too, not into a's group.
        let second = s.handle(update(2, "b", base: 0), now: 200)
        #expect(second.accumulations.map(\.weight) == [0.75])
        #expect(second.aggregations.count == 1)
        #expect(second.aggregations[0].updates == [AppliedUpdate(id: 2, client: "b", staleness: 1)])
        #expect(abs(second.aggregations[0].buckets[0].coefficient - Self.a2) < tolerance)
        // Create rule: group 0 ends at 250, its fastest member needs 100 s for Qmax, so
        // est = 350 and b (2 s/step) gets floor(150 / 2) = 75 steps; Tmax = 200 + 1.5 * 150.
        #expect(second.steps(for: "b") == 75)
        #expect(second.timers.map(\.at) == [425])
        #expect(s.arrivalGroups.last?.expectedArrival == 350)
    }

    @Test func speedGivesTheNewestMeasurementWeightM() {
        var s = started()
        _ = s.handle(update(1, "a", base: 0), now: 100)
        #expect(s.estimatedSpeed(of: "a") == 1)
        _ = s.handle(update(2, "a", base: 1), now: 220)  // 100 steps in 120 s
        let expected = 0.1 * 1.0 + 0.9 * 1.2
        #expect(abs(s.estimatedSpeed(of: "a")! - expected) < tolerance)
    }

    @Test func speedsOneTwoFourSettleIntoOneGroup() {
        var sim = SchedulerSimulation(
            scheduler: CompassScheduler(configuration: .init(minimumClients: 3)),
            clients: [
                .init(id: "a", secondsPerStep: 1), .init(id: "b", secondsPerStep: 2), .init(id: "c", secondsPerStep: 4),
            ])
        sim.run(untilVersion: 9)
        func task(_ client: ClientID, at time: Double) -> SchedulerSimulation<CompassScheduler>.Task? {
            sim.tasks.first { $0.client == client && $0.assignedAt == time }
        }
        // Worked by hand from the rules: b's second task at t=200 aims at 350 (75 steps);
        // a joins b's group at t=300 with floor((350 - 300) / 1) = 50; c at t=400 aims at
        // group 3's Tmax 500 + 1 * 100 = 600, floor(200 / 4) = 50 steps; b at 450 joins
        // c's group with floor((600 - 450) / 2) = 75, a at 550 with 50.
        #expect(task("b", at: 200)?.steps == 75)
        #expect(task("a", at: 300)?.steps == 50)
        #expect(task("c", at: 400)?.steps == 50)
        #expect(task("b", at: 450)?.steps == 75)
        #expect(task("a", at: 550)?.steps == 50)
        // At t=600 all three arrive together; the new group is sized by a (Qmax, Ta = 700)
        // and b, c join it with steps that end exactly at Ta.
        #expect(sim.aggregations.last?.time == 600)
        #expect(sim.aggregations.last?.aggregation.updates.count == 3)
        let groups = sim.scheduler.arrivalGroups
        #expect(groups.count == 1)
        #expect(groups.first?.expectedArrival == 700)
        #expect(groups.first?.pending == ["a", "b", "c"])
        #expect(task("a", at: 600)?.steps == 100)
        #expect(task("b", at: 600)?.steps == 50)
        #expect(task("c", at: 600)?.steps == 25)
        #expect(sim.tasks.suffix(3).allSatisfy { $0.arrivesAt == 700 })

        sim.run(untilVersion: 12)
        for record in sim.aggregations.suffix(3) {
            #expect(record.aggregation.updates.count == 3)
            #expect(record.aggregation.updates.allSatisfy { $0.staleness == 0 })
        }
    }

    @Test func lateUpdatesWaitInTheGeneralBufferAndAreNotOverwritten() throws {
        var run = CoreRun(started(), parameters: 3)
        for id in Int64(1)...7 { run.deltas[id] = [Float(id), 1, -Float(id) / 2] }
        _ = try run.handle(update(1, "a", base: 0), now: 100)  // v1; group 0: Ta 200, Tmax 250
        _ = try run.handle(update(2, "b", base: 0), now: 200)  // v2; group 1: Ta 350, Tmax 425
        // a misses group 0's deadline: its update goes to the general buffer, keyed by base 1.
        let late1 = try run.handle(update(3, "a", base: 1), now: 260)
        #expect(late1.accumulations.map(\.bucket) == ["late-v1"])
        #expect(late1.aggregations.isEmpty)
        // It gets a new task at once: speed 0.1 * 1 + 0.9 * 1.6 = 1.54, and joins group 1
        // with floor((350 - 260) / 1.54) = 58 steps.
        #expect(late1.steps(for: "a") == 58)
        // Late again (group 1 closed at 425 with nobody arrived): a second entry for a.
        let late2 = try run.handle(update(4, "a", base: 2), now: 430)
        #expect(late2.accumulations.map(\.bucket) == ["late-v2"])
        #expect(run.scheduler.lateUpdates.map(\.id) == [3, 4])
        // b is late too; same base version as a's second update, so the same bucket (summed).
        let late3 = try run.handle(update(5, "b", base: 2), now: 450)
        #expect(late3.accumulations.map(\.bucket) == ["late-v2"])
        #expect(run.scheduler.group(of: "a") == run.scheduler.group(of: "b"))
        #expect(run.scheduler.lateUpdates.map(\.id) == [3, 4, 5])

        _ = try run.handle(update(6, "a", base: 2), now: 700)
        let final = try run.handle(update(7, "b", base: 2), now: 705)
        #expect(final.aggregations.count == 1)
        let aggregation = final.aggregations[0]
        #expect(aggregation.newVersion == 3)
        #expect(aggregation.buckets.map(\.bucket) == ["g2-v2", "late-v1", "late-v2"])
        #expect(Set(aggregation.updates.map(\.id)) == [3, 4, 5, 6, 7])
        #expect(aggregation.updates.first { $0.id == 3 }?.staleness == 1)
        #expect(aggregation.updates.first { $0.id == 4 }?.staleness == 0)
        #expect(run.scheduler.lateUpdates.isEmpty)

        // The model moved by sum alpha * S(tau) * p * delta over all seven updates.
        let p = 0.5
        let coefficients: [Int64: Double] = [1: 0.9, 2: Self.a2, 3: Self.a2, 4: 0.9, 5: 0.9, 6: 0.9, 7: 0.9]
        for i in 0..<3 {
            let expected = coefficients.reduce(0.0) { $0 + $1.value * p * Double(run.deltas[$1.key]![i]) }
            // Float accumulation of 7 terms of order 1: 1e-5 is ~100 float ulps.
            #expect(abs(Double(run.model[i]) - expected) < 1e-5)
        }
    }

    @Test func deadlineTimerAggregatesWhatArrived() {
        var s = groupWithOnePending()
        let fired = s.handle(.timerFired("group-1"), now: 425)
        #expect(fired.aggregations.count == 1)
        #expect(fired.aggregations[0].updates == [AppliedUpdate(id: 5, client: "a", staleness: 0)])
        #expect(fired.aggregations[0].newVersion == 5)
        #expect(fired.steps(for: "a") == 100)
        #expect(fired.steps(for: "b") == nil)
        // b comes after the deadline: late, buffered, and given a task at once.
        let late = s.handle(update(6, "b", base: 2), now: 430)
        #expect(late.accumulations.map(\.bucket) == ["late-v2"])
        #expect(late.aggregations.isEmpty)
        #expect(late.steps(for: "b") != nil)
        // A timer for an already aggregated group does nothing.
        #expect(s.handle(.timerFired("group-1"), now: 431).isEmpty)
    }

    @Test func aMissedDeadlineIsHonouredOnTheNextEvent() {
        var s = groupWithOnePending()
        // The timer never fired (a slow timer, a restart); b's arrival at 500 is after Tmax.
        let actions = s.handle(update(6, "b", base: 2), now: 500)
        guard case .cancelTimer("group-1") = actions.first else {
            Issue.record("expected the overdue group to be closed first, got \(actions)")
            return
        }
        #expect(actions.aggregations.count == 1)
        #expect(actions.aggregations[0].updates.map(\.id) == [5])
        let aggregateIndex = actions.firstIndex { if case .aggregate = $0 { true } else { false } }!
        let lateIndex = actions.firstIndex { if case .accumulate(6, "late-v2", _) = $0 { true } else { false } }!
        #expect(aggregateIndex < lateIndex)
    }

    @Test func aLostClientDoesNotBlockItsGroupAndRejoinsWithItsSpeed() {
        var s = groupWithOnePending()
        let lost = s.handle(.lost("b"), now: 360)
        // The group aggregates at once instead of waiting for Tmax = 425.
        #expect(lost.first == .cancelTimer("group-1"))
        #expect(lost.aggregations.map { $0.updates.map(\.id) } == [[5]])
        #expect(lost.steps(for: "a") == 100)  // a's new group: Ta = 460
        #expect(lost.steps(for: "b") == nil)
        // b returns: its speed estimate (2 s/step) is kept, so it joins a's group:
        // floor((460 - 400) / 2) = 30 steps, where a new client gets Qmax.
        #expect(s.handle(.joined("b", samples: 100), now: 400) == [.assign("b", localSteps: 30)])
        #expect(s.handle(.joined("z", samples: 100), now: 400) == [.assign("z", localSteps: 100)])
        #expect(s.group(of: "b") == s.group(of: "a"))
    }

    @Test func aLostGroupMemberWithoutArrivalsDropsTheGroup() {
        var s = started()
        _ = s.handle(update(1, "a", base: 0), now: 100)  // a alone in group 0
        let lost = s.handle(.lost("a"), now: 150)
        #expect(lost == [.cancelTimer("group-0")])
        #expect(s.arrivalGroups.isEmpty)
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5])
    func stepsStayWithinBoundsAndEveryUpdateIsAppliedOnce(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let clients = (0..<12).map { i in
            SchedulerSimulation<CompassScheduler>.Client(
                id: "c\(i)", samples: 50 + Int(generator.nextUnit() * 500),
                secondsPerStep: max(0.05, generator.nextExponential(mean: 1)), joinTime: generator.nextUnit() * 50)
        }
        var sim = SchedulerSimulation(
            scheduler: CompassScheduler(configuration: .init(minimumClients: 4)), clients: clients,
            configuration: .init(latency: 2, jitter: 0.2, seed: seed))
        sim.schedule(.lose("c3"), at: 400)
        sim.schedule(.lose("c7"), at: 900)
        sim.schedule(.join("c3"), at: 1500)
        sim.run(untilVersion: 150, maxTime: 1e6)
        #expect(sim.scheduler.version == 150)
        #expect(sim.tasks.allSatisfy { (20...100).contains($0.steps) })

        var applied: [Int64: Int] = [:]
        for record in sim.aggregations {
            for update in record.aggregation.updates { applied[update.id, default: 0] += 1 }
            // Every bucket the aggregation names was filled by an accumulate.
            let filled = Set(sim.accumulated.values.map(\.bucket))
            #expect(record.aggregation.buckets.allSatisfy { filled.contains($0.bucket) })
        }
        #expect(applied.values.allSatisfy { $0 == 1 })
        let buffered = Set(
            sim.scheduler.groups.flatMap { $0.updates.map(\.id) } + sim.scheduler.generalBuffer.map(\.id))
        #expect(Set(applied.keys).union(buffered) == Set(sim.accumulated.keys))
        #expect(Set(applied.keys).isDisjoint(with: buffered))
    }

    @Test func snapshotRoundTripMidRunGivesIdenticalDecisions() throws {
        var generator = SeededGenerator(seed: 42)
        let clients = (0..<6).map { i in
            SchedulerSimulation<CompassScheduler>.Client(
                id: "c\(i)", samples: 100 + 10 * i, secondsPerStep: 0.2 + generator.nextUnit())
        }
        var original = SchedulerSimulation(
            scheduler: CompassScheduler(configuration: .init(minimumClients: 6)), clients: clients,
            configuration: .init(latency: 0.5, jitter: 0.05, seed: 9))
        original.run(untilVersion: 15)
        var restored = original
        restored.scheduler = try CompassScheduler(restoring: try original.scheduler.snapshot())
        restored.resumeScheduler()
        let split = original.trace.count

        original.run(untilVersion: 60)
        restored.run(untilVersion: 60)
        #expect(original.trace.count > split + 50)
        #expect(Array(original.trace[split...]) == Array(restored.trace[split...]))
        #expect(try original.scheduler.snapshot() == restored.scheduler.snapshot())
    }

    @Test func resumeMovesDeadlinesToTheNewClock() throws {
        let s = groupWithOnePending()  // clock 350, group 1 deadline 425
        var restored = try CompassScheduler(restoring: try s.snapshot())
        // The new process's clock reads 5 s: everything shifts by 5 - 350.
        let actions = restored.resume(now: 5)
        #expect(actions == [.setTimer("group-1", at: 80)])
        #expect(restored.arrivalGroups.first?.expectedArrival == 5)
        // b's task started at t=200 old clock = -145 new; arriving at new t=60 is on time.
        let arrival = restored.handle(update(6, "b", base: 2), now: 60)
        #expect(arrival.aggregations.count == 1)
        #expect(arrival.aggregations[0].updates.map(\.id) == [5, 6])
        // Speed of b: (60 - (-145)) / 75 measured, blended with 2.
        let expected = 0.1 * 2 + 0.9 * (205.0 / 75)
        #expect(abs(restored.estimatedSpeed(of: "b")! - expected) < tolerance)
    }

    @Test func rejectsImpossibleConfigurations() {
        #expect(throws: SchedulerError.self) {
            try CompassScheduler.Configuration(minLocalSteps: 50, maxLocalSteps: 10).validate()
        }
        #expect(throws: SchedulerError.self) { try CompassScheduler.Configuration(latestTimeFactor: 0.5).validate() }
        #expect(throws: Never.self) { try CompassScheduler.Configuration().validate() }
    }
}

/// After a restart the driver replays every acknowledged, unaggregated update through the
/// aggregation core; the restored scheduler's snapshot already lists the buffered ones, so
/// the core rebuilds their buckets and the scheduler sees none of them twice.
@Suite struct RestartReplayTests {
    @Test func compassReaccumulatesBufferedUpdatesWithoutChangingState() throws {
        // As in lateUpdatesWaitInTheGeneralBufferAndAreNotOverwritten: 3 in late-v1, 4 and 5
        // in late-v2, then 6 in group 2's buffer while b is still pending there.
        var s = CompassSchedulerTests().started()
        _ = s.handle(update(1, "a", base: 0), now: 100)
        _ = s.handle(update(2, "b", base: 0), now: 200)
        _ = s.handle(update(3, "a", base: 1), now: 260)
        _ = s.handle(update(4, "a", base: 2), now: 430)
        _ = s.handle(update(5, "b", base: 2), now: 450)
        _ = s.handle(update(6, "a", base: 2), now: 700)
        let saved = try s.snapshot()
        var restored = try CompassScheduler(restoring: saved)
        _ = restored.resume(now: 0)
        let before = try restored.snapshot()
        var run = CoreRun(restored, parameters: 1)
        let replays: [(Int64, String, Int, String)] = [
            (3, "a", 1, "late-v1"), (4, "a", 2, "late-v2"), (5, "b", 2, "late-v2"), (6, "a", 2, "g2-v2"),
        ]
        for (id, client, base, bucket) in replays {
            let effects = try run.core.updateArrived(
                UpdateInfo(id: id, client: client, baseVersion: base, steps: 0, samples: 100), delta: [1], now: 1)
            #expect(effects == [.accumulated(updateID: id, bucket: bucket, weight: 0.5)])
        }
        var after = run.scheduler
        after.clock = 0  // only the clock moved
        #expect(try after.snapshot() == before)
    }

    @Test func fedBuffDoesNotCountAReplayTwice() throws {
        var s = FedBuffScheduler(configuration: .init(bufferSize: 3))
        _ = s.handle(.joined("a", samples: 10), now: 0)
        _ = s.handle(update(1, "a", base: 0), now: 1)
        _ = s.handle(update(2, "a", base: 0), now: 2)
        var run = CoreRun(try FedBuffScheduler(restoring: try s.snapshot()), parameters: 1)
        run.deltas = [1: [1], 2: [2], 3: [4]]
        for id in Int64(1)...2 {
            let effects = try run.core.updateArrived(
                UpdateInfo(id: id, client: "a", baseVersion: 0, steps: 0, samples: 10), delta: run.deltas[id]!, now: 0)
            #expect(effects == [.accumulated(updateID: id, bucket: "buff-v0", weight: 1)])
        }
        #expect(run.scheduler.bufferedUpdates == 2)
        let third = try run.handle(update(3, "a", base: 0), now: 3)
        #expect(third.aggregations.first?.updates.map(\.id) == [1, 2, 3])
        // Each delta counted once: alpha (FedBuff's default) times their sum.
        let alpha = Float(run.scheduler.configuration.alpha)
        #expect(abs(run.model[0] - alpha * 7) < 1e-5)
    }
}
