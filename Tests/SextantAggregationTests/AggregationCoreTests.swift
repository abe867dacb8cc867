import Foundation
import SextantScheduling
import Testing

@testable import SextantAggregation

@Suite struct AggregationCoreTests {
    static func update(_ id: Int64, _ client: ClientID, base: Int) -> UpdateInfo {
        UpdateInfo(id: id, client: client, baseVersion: base, steps: 5, samples: 100)
    }

    static func timers(_ effects: [CoreEffect]) -> [ScheduledTimer] {
        effects.compactMap { if case .setTimer(let timer, _) = $0 { timer } else { nil } }
    }

    /// A FedAvg round timer that fires after its round ended (the driver was busy, say)
    /// must not end or restart the next round: the core recognises the old generation.
    @Test func aStaleRoundTimerChangesNothing() throws {
        let scheduler = FedAvgScheduler(configuration: .init(minimumClients: 2, localSteps: 5, roundTimeout: 60))
        var core = AggregationCore(scheduler: scheduler, model: [0, 0])
        _ = try core.clientJoined("a", samples: 100, now: 0)
        let start = try core.clientJoined("b", samples: 100, now: 0)
        let firstRound = try #require(Self.timers(start).first)
        _ = try core.updateArrived(Self.update(1, "a", base: 0), delta: [Float]([1, 0]), now: 10)
        let closing = try core.updateArrived(Self.update(2, "b", base: 0), delta: [Float]([0, 1]), now: 11)
        #expect(core.version == 1)
        let secondRound = try #require(Self.timers(closing).first)
        #expect(secondRound.id == firstRound.id && secondRound.generation != firstRound.generation)
        let before = try core.snapshot()

        // The first round's timer fires late, while round 2 is under way.
        #expect(try core.timerFired(firstRound, now: 61) == [])
        #expect(core.version == 1)
        #expect(try core.snapshot() == before)
        // Round 2's own timer still works: it closes the round with what arrived (nothing).
        #expect(core.armedTimers == [secondRound])
        _ = try core.timerFired(secondRound, now: 72)
        #expect(core.armedTimers.allSatisfy { $0.generation > secondRound.generation })
    }

    /// A scheduler that buffers updates across events and knows nothing of replays: the
    /// core alone keeps a replayed update from reaching it twice.
    struct NaiveBuffer: Scheduler {
        var version = 0
        var held: [Int64: BucketWeight] = [:]
        var arrivals = 0

        mutating func handle(_ event: SchedulerEvent, now: Double) -> [SchedulerAction] {
            guard case .updateArrived(let update) = event else { return [] }
            arrivals += 1
            held[update.id] = BucketWeight(bucket: "buffer", coefficient: 1)
            var actions: [SchedulerAction] = [.accumulate(updateID: update.id, bucket: "buffer", weight: 1)]
            if held.count == 3 {
                version += 1
                actions.append(
                    .aggregate(
                        Aggregation(
                            newVersion: version, buckets: [BucketWeight(bucket: "buffer", coefficient: 1)],
                            updates: held.keys.sorted().map { AppliedUpdate(id: $0, client: "x", staleness: 0) })))
                held = [:]
            }
            return actions
        }

        mutating func resume(now: Double) -> [SchedulerAction] { [] }
        func snapshot() throws -> Data { Data() }
        mutating func limitClaims(_ limits: ClaimLimits) {}
        func heldAccumulation(of update: Int64) -> BucketWeight? { held[update] }
    }

    @Test func aReplayedUpdateReachesNoSchedulerTwice() throws {
        var buffered = NaiveBuffer()
        _ = buffered.handle(.updateArrived(Self.update(1, "x", base: 0)), now: 0)
        _ = buffered.handle(.updateArrived(Self.update(2, "x", base: 0)), now: 0)
        // A restart: the restored scheduler holds 1 and 2; the store replays both.
        var core = AggregationCore(scheduler: buffered, model: [0])
        _ = try core.updateArrived(Self.update(1, "x", base: 0), delta: [Float]([1]), now: 0)
        _ = try core.updateArrived(Self.update(2, "x", base: 0), delta: [Float]([2]), now: 0)
        // A duplicate delivery of an id already handed over is ignored too.
        #expect(try core.updateArrived(Self.update(2, "x", base: 0), delta: [Float]([2]), now: 0) == [])
        let effects = try core.updateArrived(Self.update(3, "x", base: 0), delta: [Float]([4]), now: 1)
        #expect((core.scheduler as! NaiveBuffer).arrivals == 3)
        #expect(core.model == [7])
        #expect(effects.contains { if case .aggregated = $0 { true } else { false } })
    }

    @Test func aDeltaOfTheWrongSizeIsRefused() {
        var core = AggregationCore(scheduler: NaiveBuffer(), model: [0, 0])
        #expect(throws: CoreError.self) {
            try core.updateArrived(Self.update(1, "x", base: 0), delta: [Float]([1]), now: 0)
        }
        #expect(core.pendingCount == 0)
    }

    /// An aggregation's outcome carries the model it produced, even when the same event
    /// aggregates again (a resumed Compass closing several overdue groups, say).
    @Test func eachOutcomeCarriesItsOwnModel() throws {
        var core = AggregationCore(scheduler: FedAsyncScheduler(configuration: .init(localSteps: 1)), model: [0])
        _ = try core.clientJoined("a", samples: 1, now: 0)
        let effects = try core.updateArrived(Self.update(1, "a", base: 0), delta: [Float]([1]), now: 1)
        let models = effects.compactMap { if case .aggregated(let outcome) = $0 { outcome.model } else { nil } }
        #expect(models == [core.model])
        #expect(core.model[0] > 0)
    }
}

/// An update must answer a task the core gave its client (issue: unsolicited updates
/// became versions of their own, and one based on version 0 was applied at version 95).
@Suite struct UpdateAdmissionTests {
    static func update(_ client: ClientID, base: Int, steps: Int = 5) -> UpdateInfo {
        UpdateInfo(id: 0, client: client, baseVersion: base, steps: steps, samples: 100)
    }

    static func started() throws -> AggregationCore {
        var core = AggregationCore(scheduler: FedAsyncScheduler(configuration: .init(localSteps: 5)), model: [0])
        _ = try core.clientJoined("a", samples: 100, now: 0)
        return core
    }

    @Test func aClientWithoutATaskIsRefused() throws {
        let core = try Self.started()
        #expect(core.refusal(of: Self.update("stranger", base: 0))?.reason == .unsolicited)
        #expect(core.refusal(of: Self.update("a", base: 0)) == nil)
    }

    @Test func anUpdateOnAnotherVersionOrWithMoreStepsIsRefused() throws {
        let core = try Self.started()
        #expect(core.refusal(of: Self.update("a", base: 0, steps: 6))?.reason == .unsolicited)
        #expect(core.refusal(of: Self.update("a", base: 0, steps: 0))?.reason == .unsolicited)
        #expect(core.refusal(of: Self.update("a", base: 0, steps: 1)) == nil)
    }

    @Test func aTaskIsAnsweredOnce() throws {
        var core = try Self.started()
        var first = Self.update("a", base: 0)
        first.id = 1
        _ = try core.updateArrived(first, delta: [Float]([1]), now: 1)
        // FedAsync assigned a new task on version 1: an update on version 0 answers nothing now.
        #expect(core.refusal(of: Self.update("a", base: 0))?.reason == .unsolicited)
        #expect(core.refusal(of: Self.update("a", base: 1)) == nil)
    }

    @Test func updatesOlderThanTheBoundAreRefused() throws {
        var core = try Self.started()
        for id in Int64(1)...3 {
            var update = Self.update("a", base: core.version)
            update.id = id
            _ = try core.updateArrived(update, delta: [Float]([1]), now: Double(id))
        }
        core.maxStaleness = 2
        #expect(core.version == 3)
        #expect(core.refusal(of: Self.update("a", base: 0))?.reason == .tooStale)
        #expect(core.refusal(of: Self.update("a", base: 3)) == nil)
    }

    /// Tasks given after the last checkpoint were not saved: after a restart, one update per
    /// known client based on the resumed version is taken, and no second one.
    @Test func aResumedCoreTakesOneAnswerToAnUnsavedTask() throws {
        let saved = try Self.started()
        let state = try saved.snapshot()
        var core = AggregationCore(
            scheduler: saved.scheduler, model: saved.model, resumedTasks: try AggregationCore.tasks(in: state))
        #expect(core.refusal(of: Self.update("b", base: 0)) == nil)
        #expect(core.refusal(of: Self.update("b", base: 1))?.reason == .unsolicited)
        var answer = Self.update("b", base: 0)
        answer.id = 7
        _ = try core.updateArrived(answer, delta: [Float]([1]), now: 1)
        #expect(core.refusal(of: Self.update("b", base: 0))?.reason == .unsolicited)
    }
}
