import Foundation
import Testing

@testable import SextantScheduling

@Suite struct FedAvgSchedulerTests {
    func started(_ configuration: FedAvgScheduler.Configuration = .init(localSteps: 10, roundTimeout: 60))
        -> FedAvgScheduler
    {
        var s = FedAvgScheduler(configuration: configuration)
        _ = s.handle(.joined("a", samples: 100), now: 0)
        _ = s.handle(.joined("b", samples: 300), now: 0)
        return s
    }

    @Test func roundCompletesWhenEveryoneReported() {
        var s = FedAvgScheduler(configuration: .init(localSteps: 10, roundTimeout: 60))
        #expect(s.handle(.joined("a", samples: 100), now: 0) == [.wait("a")])
        #expect(
            s.handle(.joined("b", samples: 300), now: 1) == [
                .assign("a", localSteps: 10), .assign("b", localSteps: 10), .setTimer("fedavg-round", at: 61),
            ])
        #expect(
            s.handle(update(1, "a", base: 0), now: 5) == [.accumulate(updateID: 1, bucket: "round-0", weight: 0.25)])
        let done = s.handle(update(2, "b", base: 0), now: 9)
        #expect(done.first == .accumulate(updateID: 2, bucket: "round-0", weight: 0.75))
        #expect(
            done.aggregations == [
                Aggregation(
                    newVersion: 1, buckets: [BucketWeight(bucket: "round-0", coefficient: 1)],
                    updates: [
                        AppliedUpdate(id: 1, client: "a", staleness: 0),
                        AppliedUpdate(id: 2, client: "b", staleness: 0),
                    ])
            ])
        #expect(done.assignments.map(\.client) == ["a", "b"])
        #expect(s.version == 1)
        // An update from an old round is not applied.
        guard case .discard = s.handle(update(3, "a", base: 0), now: 10).first else {
            Issue.record("a stale update must be discarded")
            return
        }
    }

    @Test func timeoutAggregatesTheArrivalsRenormalised() {
        var s = started()
        _ = s.handle(update(1, "a", base: 0), now: 5)
        let timeout = s.handle(.timerFired("fedavg-round"), now: 60)
        // Only a (share 0.25) arrived: its delta is applied at full weight, 0.25 * (1/0.25).
        #expect(timeout.aggregations.map(\.buckets) == [[BucketWeight(bucket: "round-0", coefficient: 1.0 / 0.25)]])
        #expect(timeout.aggregations.first?.updates.map(\.client) == ["a"])
        #expect(s.version == 1)
    }

    @Test func lostParticipantEndsTheRoundWithTheOthers() {
        var s = started()
        _ = s.handle(update(1, "a", base: 0), now: 5)
        let lost = s.handle(.lost("b"), now: 6)
        #expect(lost.aggregations.count == 1)
        #expect(lost.aggregations.first?.updates.map(\.client) == ["a"])
    }

    @Test func samplingIsSeededAndPartial() {
        func rounds(seed: UInt64) -> [[ClientID]] {
            var s = FedAvgScheduler(
                configuration: .init(minimumClients: 10, localSteps: 5, samplingRate: 0.5, seed: seed))
            var chosen: [[ClientID]] = []
            var actions: [SchedulerAction] = []
            for i in 0..<10 { actions = s.handle(.joined("c\(i)", samples: 10), now: 0) }
            var id: Int64 = 0
            for round in 0..<40 {
                let participants = actions.assignments.map(\.client)
                chosen.append(participants)
                for client in participants {
                    id += 1
                    actions = s.handle(update(id, client, base: round), now: Double(round))
                }
            }
            return chosen
        }
        let first = rounds(seed: 3)
        #expect(first == rounds(seed: 3))
        #expect(first != rounds(seed: 4))
        #expect(first.allSatisfy { !$0.isEmpty && $0.count <= 10 })
        let mean = Double(first.map(\.count).reduce(0, +)) / Double(first.count)
        // Binomial(10, 0.5) averaged over 40 rounds: standard error 0.25, so 5 +- 1.5 is 6 sigma.
        #expect(abs(mean - 5) < 1.5)
    }

    @Test func fedAvgMCarriesTheServerMomentum() throws {
        var plain = started()
        _ = plain.handle(update(1, "a", base: 0), now: 1)
        #expect(plain.handle(update(2, "b", base: 0), now: 2).aggregations.first?.serverMomentum == nil)

        var momentum = started(.init(localSteps: 10, roundTimeout: 60, serverMomentum: 0.9))
        #expect(momentum.kind == .fedavgm)
        _ = momentum.handle(update(1, "a", base: 0), now: 1)
        #expect(momentum.handle(update(2, "b", base: 0), now: 2).aggregations.first?.serverMomentum == 0.9)
        let restored = try FedAvgScheduler(restoring: try momentum.snapshot())
        #expect(restored.configuration.serverMomentum == 0.9)
    }
}

@Suite struct FedAsyncSchedulerTests {
    @Test func everyUpdateIsAppliedOnArrivalWithItsStaleness() throws {
        var run = CoreRun(FedAsyncScheduler(configuration: .init(localSteps: 7)), parameters: 2)
        #expect(try run.handle(.joined("a", samples: 100), now: 0) == [.assign("a", localSteps: 7)])
        #expect(try run.handle(.joined("b", samples: 100), now: 0) == [.assign("b", localSteps: 7)])
        run.deltas = [1: [1, 0], 2: [0, 1]]
        let first = try run.handle(update(1, "a", base: 0), now: 3)
        #expect(
            first == [
                .accumulate(updateID: 1, bucket: "async-u1", weight: 0.5),
                .aggregate(
                    Aggregation(
                        newVersion: 1, buckets: [BucketWeight(bucket: "async-u1", coefficient: 0.9)],
                        updates: [AppliedUpdate(id: 1, client: "a", staleness: 0)])),
                .assign("a", localSteps: 7),
            ])
        let second = try run.handle(update(2, "b", base: 0), now: 4)
        #expect(second.aggregations.first?.updates == [AppliedUpdate(id: 2, client: "b", staleness: 1)])
        #expect(run.scheduler.version == 2)
        // w = 0.9 * 1 * 0.5 * d1 + 0.9 * 2^-0.5 * 0.5 * d2
        #expect(abs(Double(run.model[0]) - 0.45) < 1e-6)
        #expect(abs(Double(run.model[1]) - 0.45 * pow(2, -0.5)) < 1e-6)
    }

    @Test func waitsForTheMinimumThenStartsEveryone() {
        var s = FedAsyncScheduler(configuration: .init(minimumClients: 2, localSteps: 5))
        #expect(s.handle(.joined("b", samples: 1), now: 0) == [.wait("b")])
        #expect(
            s.handle(.joined("a", samples: 1), now: 0) == [.assign("a", localSteps: 5), .assign("b", localSteps: 5)])
        #expect(s.handle(.lost("a"), now: 1).isEmpty)
    }
}

@Suite struct FedBuffSchedulerTests {
    @Test func buffersKUpdatesThenAppliesThemTogether() {
        var s = FedBuffScheduler(configuration: .init(localSteps: 4, bufferSize: 3, weighting: .equal))
        for c in ["a", "b", "c"] { _ = s.handle(.joined(c, samples: 10), now: 0) }
        let one = s.handle(update(1, "a", base: 0), now: 1)
        #expect(one == [.accumulate(updateID: 1, bucket: "buff-v0", weight: 1.0 / 3), .assign("a", localSteps: 4)])
        let two = s.handle(update(2, "b", base: 0), now: 2)
        #expect(two.aggregations.isEmpty)
        #expect(s.bufferedUpdates == 2)
        let three = s.handle(update(3, "c", base: 0), now: 3)
        #expect(three.aggregations.count == 1)
        #expect(three.aggregations[0].buckets == [BucketWeight(bucket: "buff-v0", coefficient: 0.9)])
        #expect(three.aggregations[0].updates.map(\.id) == [1, 2, 3])
        #expect(three.steps(for: "c") == 4)
        #expect(s.version == 1)

        // Next buffer mixes base versions 0 and 1: one bucket each, each with its staleness.
        _ = s.handle(update(4, "a", base: 1), now: 4)
        _ = s.handle(update(5, "b", base: 0), now: 5)
        let mixed = s.handle(update(6, "c", base: 1), now: 6)
        let buckets = mixed.aggregations.first?.buckets ?? []
        #expect(buckets.map(\.bucket) == ["buff-v0", "buff-v1"])
        #expect(abs(buckets[0].coefficient - 0.9 * pow(2, -0.5)) < tolerance)
        #expect(buckets[1].coefficient == 0.9)
        #expect(mixed.aggregations.first?.updates.map(\.staleness) == [0, 1, 0])
    }
}
