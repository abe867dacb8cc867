import Testing

@testable import SextantSimulation

@Suite("Time to target over seeds")
struct TimeToTargetTests {
    /// A curve evaluated every 10 virtual seconds.
    func curve(_ accuracies: [Double]) -> [SimulationPoint] {
        accuracies.enumerated().map {
            SimulationPoint(
                algorithm: "a", version: $0.offset, virtualSeconds: Double($0.offset) * 10, accuracy: $0.element,
                loss: 0)
        }
    }

    @Test func robustTimeWaitsForTheTargetToBeHeld() {
        // Crosses 0.7 at 10 s, drops, crosses again at 30 s and holds (30, 40, 50 s).
        let points = curve([0.5, 0.72, 0.6, 0.71, 0.73, 0.75, 0.69])
        #expect(TimeToTarget.firstCrossing(points, target: 0.7) == 10)
        #expect(TimeToTarget.robust(points, target: 0.7, held: 3) == 30)
        #expect(TimeToTarget.robust(points, target: 0.7, held: 1) == 10)
        #expect(TimeToTarget.robust(points, target: 0.7, held: 4) == nil)
        // A curve that ends two evaluations after crossing has not held the target for three.
        #expect(TimeToTarget.robust(curve([0.5, 0.8, 0.9]), target: 0.7) == nil)
        #expect(TimeToTarget.firstCrossing(curve([0.5, 0.6]), target: 0.7) == nil)
    }

    @Test func medianIntervalOfFiveAndTenValues() {
        // n = 5: even k = 1 covers only 1 - 2/32 = 93.75% < 95%, so the whole range.
        let five = MedianInterval([5, 1, 4, 2, 3])
        #expect(five.median == 3 && five.lower == 1 && five.upper == 5)
        #expect(five.coverage == 0.9375)
        #expect(five.reached == 5 && five.count == 5)
        // n = 10: k = 2 covers 1 - 2 (1 + 10)/1024 = 97.85%; k = 3 only 1 - 2 (1 + 10 + 45)/1024 = 89.06%.
        let ten = MedianInterval((1...10).map { Double($0) })
        #expect(ten.median == 5.5 && ten.lower == 2 && ten.upper == 9)
        #expect(ten.coverage == 1 - 22.0 / 1024)
        // n = 3: 1 - 2/8 = 75%.
        #expect(MedianInterval([3, 1, 2]).coverage == 0.75)
    }

    @Test func seedsThatMissTheTargetSortLast() {
        let interval = MedianInterval([1, nil, 2])
        #expect(interval.median == 2 && interval.lower == 1 && interval.upper == .infinity)
        #expect(interval.reached == 2 && interval.count == 3)
        #expect(MedianInterval([nil, nil, 4]).median == .infinity)
    }

    @Test func coverageIsTheBinomialSum() {
        // P(1 <= B <= 5) for B ~ Binomial(6, 1/2) = 1 - 2/64.
        #expect(MedianInterval.coverage(n: 6, k: 1) == 1 - 2.0 / 64)
        #expect(MedianInterval.coverage(n: 1, k: 1) == 0)
    }
}
