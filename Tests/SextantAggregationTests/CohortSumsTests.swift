import Foundation
import SextantScheduling
import Testing

@testable import SextantAggregation

/// Secure aggregation's sums in the core (docs/design.md 13): a cohort's sum of pre-weighted
/// deltas moves the model exactly as the members' deltas would have one by one.
@Suite struct CohortSumsTests {
    static let samples: [ClientID: Int] = ["a": 100, "b": 300, "c": 600]
    static let deltas: [ClientID: [Float]] = ["a": [1, 0, 2], "b": [0, 3, -1], "c": [0.5, 0.5, 0.5]]

    /// A FedAvg core with three joined clients in their first round.
    static func makeCore() throws -> AggregationCore {
        let scheduler = FedAvgScheduler(configuration: .init(minimumClients: 3, localSteps: 5, roundTimeout: 60))
        var core = AggregationCore(scheduler: scheduler, model: [0, 0, 0])
        for (client, count) in samples.sorted(by: { $0.key < $1.key }) {
            _ = try core.clientJoined(client, samples: count, now: 0)
        }
        return core
    }

    static func update(_ id: Int64, _ client: ClientID) -> UpdateInfo {
        UpdateInfo(id: id, client: client, baseVersion: 0, steps: 5, samples: samples[client]!)
    }

    /// Each member multiplies its delta by its weight; the sum of those is what the server
    /// unmasks.
    static func weightedSum(_ core: AggregationCore, members: [ClientID]) throws -> (
        [(update: UpdateInfo, weight: Double)], [Float]
    ) {
        var sum = [Float](repeating: 0, count: 3)
        var weighted: [(update: UpdateInfo, weight: Double)] = []
        for (index, client) in members.enumerated() {
            let weight = try #require(core.scheduler.contributionWeight(of: client))
            for i in 0..<3 { sum[i] += Float(weight) * deltas[client]![i] }
            weighted.append((update(Int64(index + 1), client), weight))
        }
        return (weighted, sum)
    }

    @Test func aCohortSumMovesTheModelAsItsMembersWould() throws {
        var plain = try Self.makeCore()
        for (index, client) in ["a", "b", "c"].enumerated() {
            _ = try plain.updateArrived(Self.update(Int64(index + 1), client), delta: Self.deltas[client]!, now: 1)
        }
        var secure = try Self.makeCore()
        let (weighted, sum) = try Self.weightedSum(secure, members: ["a", "b", "c"])
        let effects = try secure.cohortArrived(weighted, sum: sum, now: 1)
        #expect(effects.contains { if case .aggregated = $0 { true } else { false } })
        #expect(plain.version == 1 && secure.version == 1)
        for (p, s) in zip(plain.model, secure.model) {
            // Float sums in another order: a few ulps of values of order 1.
            #expect(abs(p - s) < 1e-6, "plain \(plain.model), secure \(secure.model)")
        }
        #expect(secure.cohorts.openCount == 0)
    }

    /// A cohort whose survivors are fewer than the round's members: the round normalises by
    /// the survivors' weights, as it would had the others never reported.
    @Test func aCohortOfTheSurvivorsIsNormalisedOverThem() throws {
        var plain = try Self.makeCore()
        _ = try plain.updateArrived(Self.update(1, "a"), delta: Self.deltas["a"]!, now: 1)
        _ = try plain.updateArrived(Self.update(2, "b"), delta: Self.deltas["b"]!, now: 1)
        _ = try plain.clientLost("c", now: 2)
        var secure = try Self.makeCore()
        let (weighted, sum) = try Self.weightedSum(secure, members: ["a", "b"])
        _ = try secure.cohortArrived(weighted, sum: sum, now: 1)
        _ = try secure.clientLost("c", now: 2)
        #expect(plain.version == 1 && secure.version == 1)
        for (p, s) in zip(plain.model, secure.model) { #expect(abs(p - s) < 1e-6) }
    }

    @Test func aSumOfOneMemberOrOfTheWrongLengthIsRefusedAndChangesNothing() throws {
        var core = try Self.makeCore()
        let before = try core.snapshot()
        let (weighted, sum) = try Self.weightedSum(core, members: ["a", "b"])
        #expect(throws: CoreError.self) { try core.cohortArrived(Array(weighted.prefix(1)), sum: sum, now: 1) }
        #expect(throws: CoreError.self) { try core.cohortArrived(weighted, sum: [1, 2], now: 1) }
        #expect(try core.snapshot() == before)
    }

    @Test func aMemberWithoutATaskIsRefusedBeforeAnythingChanges() throws {
        var core = try Self.makeCore()
        let before = try core.snapshot()
        var (weighted, sum) = try Self.weightedSum(core, members: ["a", "b"])
        weighted[1].update.client = "stranger"
        let error = #expect(throws: CoreError.self) { try core.cohortArrived(weighted, sum: sum, now: 1) }
        #expect(error?.code == .cohortMismatch)
        #expect(try core.snapshot() == before)
        #expect(core.cohorts.openCount == 0)
    }

    /// The member multiplied its delta by a weight the scheduler does not use: the sum
    /// cannot be re-weighted, so the core refuses rather than apply a wrong step.
    @Test func aWeightTheSchedulerDoesNotUseIsRefused() throws {
        var core = try Self.makeCore()
        var (weighted, sum) = try Self.weightedSum(core, members: ["a", "b", "c"])
        weighted[0].weight *= 2
        let error = #expect(throws: CoreError.self) { try core.cohortArrived(weighted, sum: sum, now: 1) }
        #expect(error?.code == .cohortMismatch)
    }
}
