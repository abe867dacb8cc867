import Logging
import SextantWire
import Testing

@Suite("Wire benchmark")
struct WireBenchmarkTests {
    @Test("runs both paths end to end on a small payload (no timing asserted)", .timeLimit(.minutes(1)))
    func smoke() async throws {
        let benchmark = WireBenchmark(
            configuration: .init(payloadCount: 10_000, roundTripsPerRepetition: 2, repetitions: 3),
            logger: Logger(label: "sextant.wire.bench"))
        let result = try await benchmark.run()
        #expect(result.payloadBytes == 40_000)
        #expect(result.rawSamples.count == 3)
        #expect(result.sextantSamples.count == 3)
        #expect(result.rawGigabytesPerSecond > 0)
        #expect(result.ratio > 0)
    }

    @Test("median of an odd and an even number of samples")
    func median() {
        let odd = WireBenchmark.Result(payloadBytes: 1, rawSamples: [3, 1, 2], sextantSamples: [4, 1, 2, 3])
        #expect(odd.rawGigabytesPerSecond == 2)
        #expect(odd.sextantGigabytesPerSecond == 2.5)
        #expect(odd.ratio == 1.25)
    }
}
