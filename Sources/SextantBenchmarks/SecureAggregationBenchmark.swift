import Crypto
import SextantAggregation
import SextantBase
import SextantSecureAggregation

/// The cost of secure aggregation (docs/secure-aggregation.md): for each cohort size and model
/// size, one whole protocol run in this process (every member's and the server's work, every
/// message through its byte encoding), beside plain aggregation of the same cohort in the same
/// run; and the mask stream's throughput against this machine's memory bandwidth.
package struct SecureAggregationBenchmark: Sendable {
    package struct Configuration: Sendable {
        package var members: [Int] = [4, 8, 16, 32, 64, 100]
        package var parameters: [Int] = [200_000, 10_000_000]
        /// Models of at least a million parameters run only for cohorts up to this size (a
        /// complete graph's cost grows as members² × parameters in one process).
        package var largeCohortLimit = 16
        /// Degree of the SecAgg+ graph; nil: the complete graph of SecAgg.
        package var degree: Int?
        package var stream: MaskStream = .aesCTR
        /// Share of the cohort (at least one member) that drops after sharing keys, in the
        /// runs with dropouts: the costly case, where the server recomputes their pairwise masks.
        package var dropoutFraction = 0.1

        package init() {}
    }

    /// One protocol run.
    package struct Row: Sendable, Codable {
        package var members: Int
        package var parameters: Int
        package var threshold: Int
        package var neighbours: Int
        package var dropped: Int
        /// Median over members of one member's seconds: quantisation, the four rounds, the
        /// encoding of its messages.
        package var clientSeconds: Double
        /// The part of ``clientSeconds`` spent expanding masks.
        package var clientMaskSeconds: Double
        /// Median bytes one member sends and receives over the four rounds.
        package var clientBytesSent: Int
        package var clientBytesReceived: Int
        /// Seconds of the server's work for the cohort: decoding, checking, summing, unmasking.
        package var serverSeconds: Double
        /// Plain aggregation of the same cohort: Float32 deltas summed by the aggregation core.
        package var plainClientBytes: Int
        package var plainServerSeconds: Double
    }

    package struct StreamRate: Sendable, Codable {
        package var stream: String
        /// Mask words added into a vector, GB of mask per second.
        package var gigabytesPerSecond: Double
    }

    package struct Result: Sendable, Codable {
        /// `y += a x` over 10M floats, GB/s (two reads and one write per value).
        package var memoryBandwidth: Double
        package var streams: [StreamRate]
        package var rows: [Row]

        package init(memoryBandwidth: Double, streams: [StreamRate], rows: [Row]) {
            self.memoryBandwidth = memoryBandwidth
            self.streams = streams
            self.rows = rows
        }
    }

    package var configuration: Configuration

    package init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// The cohorts this configuration measures, in order.
    package var cases: [(members: Int, parameters: Int, dropouts: Bool)] {
        configuration.parameters.flatMap { parameters in
            configuration.members.filter { parameters < 1_000_000 || $0 <= configuration.largeCohortLimit }
                .flatMap { members in [(members, parameters, false), (members, parameters, true)] }
        }
    }

    package func measureStreams() throws -> (memoryBandwidth: Double, streams: [StreamRate]) {
        let n = 10_000_000
        let x = [Float](repeating: 1e-3, count: n)
        var y = [Float](repeating: 0, count: n)
        var samples: [Double] = []
        for _ in 0..<3 {
            let seconds = BenchmarkTiming.seconds {
                y.withUnsafeMutableBufferPointer { y in
                    x.withUnsafeBufferPointer { DeltaAccumulator.axpy(0.5, $0, into: y) }
                }
            }
            samples.append(Double(12 * n) / seconds / 1e9)
        }
        var streams: [StreamRate] = []
        var words = [UInt32](repeating: 0, count: n)
        let seed = SymmetricKey(size: .bits256)
        for stream in MaskStream.allCases {
            let generator = MaskGenerator(stream: stream)
            var rates: [Double] = []
            for _ in 0..<3 {
                var failure: SecureAggregationError?
                let seconds = BenchmarkTiming.seconds {
                    words.withUnsafeMutableBufferPointer { buffer in
                        do throws(SecureAggregationError) {
                            try generator.apply(seed: seed, to: buffer, subtract: false)
                        } catch {
                            failure = error
                        }
                    }
                }
                if let failure { throw failure }
                rates.append(Double(4 * n) / seconds / 1e9)
            }
            streams.append(StreamRate(stream: stream.rawValue, gigabytesPerSecond: BenchmarkTiming.median(rates)))
        }
        return (BenchmarkTiming.median(samples), streams)
    }

    /// One cohort's protocol run and its plain aggregation.
    package func run(members: Int, parameters: Int, dropouts: Bool) throws -> Row {
        let ids = (0..<UInt32(members)).map { $0 }
        let neighbours = configuration.degree.map { min($0, members - 1) } ?? members - 1
        // Two thirds of a neighbourhood, but low enough that the run with dropouts completes (with
        // a sparse graph, up to half of a neighbourhood may drop).
        let droppable = max(1, Int((Double(members) * configuration.dropoutFraction).rounded(.up)))
        let spare = configuration.degree == nil ? droppable : min(droppable, neighbours / 2)
        let threshold = max(1, min((2 * neighbours + 2) / 3, neighbours - spare))
        let graph: CommunicationGraph =
            configuration.degree.map { .harary(degree: $0, seed: UInt64(members)) } ?? .complete
        let dropped = dropouts ? droppable : 0
        let droppedIDs = Set(ids.suffix(dropped))
        var generator = SystemRandomNumberGenerator()
        var seeded = SeededGenerator(seed: UInt64(parameters))
        let update = (0..<parameters).map { _ in Float.random(in: -1...1, using: &seeded) }
        let quantizer = try RingQuantizer(
            configuration: .init(clipNorm: 10, maxMembers: members), dimension: parameters)

        var server = try SecureAggregationServer(
            configuration: .init(
                cohort: 1, members: ids, threshold: threshold, dimension: parameters, graph: graph,
                stream: configuration.stream))
        var clients: [SecureAggregationClient] = []
        var clientSeconds = [Double](repeating: 0, count: members)
        var maskSeconds = [Double](repeating: 0, count: members)
        var sent = [Int](repeating: 0, count: members)
        var received = [Int](repeating: 0, count: members)
        var serverSeconds = 0.0
        // Every member encodes the same update (timed each time); one encoding is kept, so a
        // cohort of 100 members of 10M parameters does not hold 4 GB of inputs.
        var input: [UInt32] = []

        func timed<T>(_ seconds: inout Double, _ body: () throws -> T) rethrows -> T {
            let start = ContinuousClock.now
            defer { seconds += (ContinuousClock.now - start).inSeconds }
            return try body()
        }
        /// A member's message: encoded by the member, decoded and handled by the server.
        func deliver(_ message: SecureAggregationMessage, from member: Int) throws {
            let bytes = timed(&clientSeconds[member]) { message.encoded() }
            sent[member] += bytes.count
            try timed(&serverSeconds) { try server.receive(try SecureAggregationMessage(decoding: bytes)) }
        }
        /// A server message: encoded by the server, decoded by the member.
        func fetch(_ message: SecureAggregationMessage, to member: Int) throws -> SecureAggregationMessage {
            let bytes = timed(&serverSeconds) { message.encoded() }
            received[member] += bytes.count
            return try timed(&clientSeconds[member]) { try SecureAggregationMessage(decoding: bytes) }
        }

        for member in 0..<members {
            let encoded = try timed(&clientSeconds[member]) {
                try update.withUnsafeBufferPointer { try quantizer.encode($0, using: &seeded) }
            }
            if member == 0 { input = encoded }
            var client = try SecureAggregationClient(
                configuration: .init(
                    cohort: 1, member: ids[member], threshold: threshold, dimension: parameters,
                    stream: configuration.stream), using: &generator)
            let keys = try timed(&clientSeconds[member]) { try client.advertiseKeys() }
            clients.append(client)
            try deliver(.advertiseKeys(keys), from: member)
        }
        for roster in try timed(&serverSeconds, { try server.closeAdvertising() }) {
            let member = Int(roster.recipient)
            guard case .keyRoster(let decoded) = try fetch(.keyRoster(roster), to: member) else { continue }
            let shares = try timed(&clientSeconds[member]) { try clients[member].shareKeys(decoded, using: &generator) }
            try deliver(.encryptedShares(shares), from: member)
        }
        for delivery in try timed(&serverSeconds, { try server.closeSharing() }) {
            let member = Int(delivery.recipient)
            guard !droppedIDs.contains(delivery.recipient),
                case .shareDelivery(let decoded) = try fetch(.shareDelivery(delivery), to: member)
            else { continue }
            var seconds = 0.0
            let masked = try timed(&seconds) { try clients[member].maskInput(decoded, input: input) }
            clientSeconds[member] += seconds
            maskSeconds[member] = seconds
            try deliver(.maskedInput(masked), from: member)
        }
        input = []
        for request in try timed(&serverSeconds, { try server.closeMasking() }) {
            let member = Int(request.recipient)
            guard case .unmaskRequest(let decoded) = try fetch(.unmaskRequest(request), to: member) else { continue }
            let answer = try timed(&clientSeconds[member]) { try clients[member].unmask(decoded) }
            try deliver(.unmaskShares(answer), from: member)
        }
        _ = try timed(&serverSeconds) { try server.finish() }

        // Plain aggregation of the same cohort, in the same run.
        var accumulator = DeltaAccumulator(parameterCount: parameters)
        let plain = BenchmarkTiming.seconds {
            update.withUnsafeBufferPointer { delta in
                for _ in 0..<(members - dropped) { accumulator.accumulate(delta, weight: 1, into: "bench") }
            }
        }
        let survivors = (0..<members).filter { !droppedIDs.contains(UInt32($0)) }
        return Row(
            members: members, parameters: parameters, threshold: threshold, neighbours: neighbours, dropped: dropped,
            clientSeconds: BenchmarkTiming.median(survivors.map { clientSeconds[$0] }),
            clientMaskSeconds: BenchmarkTiming.median(survivors.map { maskSeconds[$0] }),
            clientBytesSent: Int(BenchmarkTiming.median(survivors.map { Double(sent[$0]) })),
            clientBytesReceived: Int(BenchmarkTiming.median(survivors.map { Double(received[$0]) })),
            serverSeconds: serverSeconds, plainClientBytes: 4 * parameters, plainServerSeconds: plain)
    }
}
