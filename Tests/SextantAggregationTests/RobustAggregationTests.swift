import SextantScheduling
import Testing

@testable import SextantAggregation

@Suite struct RobustAggregationTests {
    static func combine(_ rule: RobustAggregation, _ deltas: [[Float]]) -> [Float] {
        var output = [Float](repeating: .nan, count: deltas[0].count)
        output.withUnsafeMutableBufferPointer { rule.combine(deltas, into: $0) }
        return output
    }

    @Test func medianIsCoordinatewise() {
        // Column 0: 1, 5, 100 -> 5; column 1: -3, 0, 2, -> 0; with four: the middle two's mean.
        #expect(Self.combine(.median, [[1, -3], [5, 0], [100, 2]]) == [5, 0])
        #expect(Self.combine(.median, [[1, -3], [5, 0], [100, 2], [7, 2]]) == [6, 1])
    }

    @Test func trimmedMeanDropsTheExtremesOfEachCoordinate() {
        // 5 values, fraction 0.2: one dropped at each end. Column 0: 1 2 3 4 1000 -> (2 + 3 + 4) / 3.
        let deltas: [[Float]] = [[1, 10], [2, -50], [3, 10], [4, 10], [1000, 10]]
        #expect(Self.combine(.trimmedMean(fraction: 0.2), deltas) == [3, 10])
        // A fraction below 1/n drops nothing: the plain mean.
        #expect(Self.combine(.trimmedMean(fraction: 0.1), deltas) == [202, -2])
    }

    @Test func multiKrumLeavesOutTheOutliers() {
        // Four honest deltas near (1, 1) and one far away; f = 1 keeps n - f = 4.
        let honest: [[Float]] = [[1, 1], [1.1, 0.9], [0.9, 1.1], [1, 1.2]]
        let deltas = honest + [[-20, 30]]
        #expect(RobustAggregation.krumSelection(deltas, byzantine: 1) == [0, 1, 2, 3])
        let combined = Self.combine(.multiKrum(byzantine: 1), deltas)
        #expect(abs(combined[0] - 1) < 1e-6 && abs(combined[1] - 1.05) < 1e-6)
    }

    @Test func normHistoryKeepsAWindowAndItsMedian() {
        var history = NormHistory(window: 3)
        for norm in [5.0, 1, 3, 100] { history.record(norm) }
        #expect(history.norms == [1, 3, 100])
        #expect(history.median == 3)
    }

    /// Two of ten clients send sign-flipped, scaled updates under the server's norm limit:
    /// the median and multi-Krum steps stay with the honest clients; the mean does not.
    @Test(arguments: [RobustAggregation.median, .trimmedMean(fraction: 0.2), .multiKrum(byzantine: 2)])
    func anEventWithAttackersMovesLikeTheHonestClients(rule: RobustAggregation) throws {
        func run(_ rule: RobustAggregation) throws -> [Float] {
            let clients = (0..<10).map { "c\($0)" }
            var core = AggregationCore(
                scheduler: FedAvgScheduler(
                    configuration: .init(minimumClients: 10, localSteps: 5, roundTimeout: 100, weighting: .equal)),
                model: [0, 0], robust: rule)
            for client in clients { _ = try core.clientJoined(client, samples: 100, now: 0) }
            for (index, client) in clients.enumerated() {
                let honest: [Float] = [1 + Float(index % 3) * 0.1, -1]
                let delta = index < 2 ? honest.map { -4 * $0 } : honest
                let update = UpdateInfo(id: Int64(index + 1), client: client, baseVersion: 0, steps: 5, samples: 100)
                _ = try core.updateArrived(update, delta: delta, now: 1)
            }
            #expect(core.version == 1)
            return core.model
        }
        let mean = try run(.mean)
        let robust = try run(rule)
        // The honest mean is about (1.1, -1); the plain mean is pulled to about (0, 0).
        #expect(robust[0] > 0.9 && robust[1] < -0.9)
        #expect(mean[0] < 0.1)
    }

    @Test func normBoundScalesOutliersToTheRecentMedian() throws {
        var core = AggregationCore(
            scheduler: FedAsyncScheduler(configuration: .init(localSteps: 1)), model: [0],
            robust: .normBound(factor: 2, window: 10, minimumHistory: 3))
        _ = try core.clientJoined("a", samples: 1, now: 0)
        for id in Int64(1)...3 {
            let update = UpdateInfo(id: id, client: "a", baseVersion: core.version, steps: 1, samples: 1)
            _ = try core.updateArrived(update, delta: [Float]([1]), now: Double(id))
        }
        let before = core.model[0]
        let update = UpdateInfo(id: 4, client: "a", baseVersion: core.version, steps: 1, samples: 1)
        _ = try core.updateArrived(update, delta: [Float]([1000]), now: 4)
        // FedAsync's step is alpha (0.9) times the delta: the bounded delta has norm 2.
        #expect(abs((core.model[0] - before) - 0.9 * 2) < 1e-5)
        #expect(core.normHistory?.norms == [1, 1, 1, 2])
    }
}
