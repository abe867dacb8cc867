import Foundation
import Logging

/// Measures model-sized round trips over loopback TCP: plain libzmq byte copies against
/// the full Sextant path (encode, zero-copy send, decode with validation). Prints nothing;
/// `sextant bench wire` reports the result.
public struct WireBenchmark: Sendable {
    public struct Configuration: Sendable {
        /// Float32 values per payload. Default 10 million (40 MB).
        public var payloadCount: Int
        /// Round trips timed together as one sample. Default 4.
        public var roundTripsPerRepetition: Int
        /// Samples per path; the result reports their median. Default 5.
        public var repetitions: Int
        /// Runs the Sextant path with CURVE encryption and a ZAP allow-list (the raw
        /// baseline stays plain), so the ratio shows what encryption costs.
        public var curve: Bool

        public init(
            payloadCount: Int = 10_000_000, roundTripsPerRepetition: Int = 4, repetitions: Int = 5, curve: Bool = false
        ) {
            self.payloadCount = payloadCount
            self.roundTripsPerRepetition = max(1, roundTripsPerRepetition)
            self.repetitions = max(1, repetitions)
            self.curve = curve
        }
    }

    public struct Result: Sendable {
        public var payloadBytes: Int
        /// Round-trip throughput (bytes both ways / time) of each sample, in GB/s.
        public var rawSamples: [Double]
        public var sextantSamples: [Double]

        public init(payloadBytes: Int, rawSamples: [Double], sextantSamples: [Double]) {
            self.payloadBytes = payloadBytes
            self.rawSamples = rawSamples
            self.sextantSamples = sextantSamples
        }

        public var rawGigabytesPerSecond: Double { Self.median(rawSamples) }
        public var sextantGigabytesPerSecond: Double { Self.median(sextantSamples) }
        /// Sextant over raw; 1 means the protocol costs nothing on top of libzmq.
        public var ratio: Double { sextantGigabytesPerSecond / rawGigabytesPerSecond }

        static func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            guard !sorted.isEmpty else { return 0 }
            let middle = sorted.count / 2
            return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        }
    }

    public var configuration: Configuration
    private let logger: Logger

    public init(configuration: Configuration = Configuration(), logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws(WireError) -> Result {
        let bytesPerSample = Double(
            2 * configuration.payloadCount * MemoryLayout<Float>.size
                * configuration.roundTripsPerRepetition)
        var raw: [Double] = []
        var sextant: [Double] = []
        // Interleaved so that drift of the machine affects both paths alike.
        for _ in 0..<configuration.repetitions {
            raw.append(bytesPerSample / (try await measureRaw()) / 1e9)
            sextant.append(bytesPerSample / (try await measureSextant()) / 1e9)
        }
        return Result(
            payloadBytes: configuration.payloadCount * MemoryLayout<Float>.size, rawSamples: raw,
            sextantSamples: sextant)
    }

    /// Raw libzmq messages (zero-copy send, in-place receive), both sockets on one
    /// dedicated thread (the blocking calls must stay off the cooperative pool). Returns seconds.
    private func measureRaw() async throws(WireError) -> Double {
        let configuration = configuration
        let result: Swift.Result<Double, WireError> = await withCheckedContinuation { done in
            let thread = Thread {
                do throws(WireError) {
                    done.resume(returning: .success(try Self.rawRoundTrips(configuration)))
                } catch {
                    done.resume(returning: .failure(error))
                }
            }
            thread.name = "sextant-bench-raw"
            thread.start()
        }
        return try result.get()
    }

    private static func rawRoundTrips(_ configuration: Configuration) throws(WireError) -> Double {
        let serverContext = try ZMQContext()
        let clientContext = try ZMQContext()
        let router = try ZMQSocket(context: serverContext, type: .router)
        let dealer = try ZMQSocket(context: clientContext, type: .dealer)
        for socket in [router, dealer] { try socket.setOption(.linger(milliseconds: 0)) }
        try router.bind(to: "tcp://127.0.0.1:*")
        try dealer.setOption(.routingID(Array("bench".utf8)))
        try dealer.connect(to: router.lastEndpoint ?? "")

        // libzmq's fastest path: zero-copy sends and in-place receives, one frame, no
        // protocol. The Sextant path adds its header, metadata, validation and async bridge.
        let payload = [Float](repeating: 0.001, count: configuration.payloadCount)

        func roundTrip() throws(WireError) {
            try dealer.send([.floats(payload)])
            let request = try router.receiveMessage()
            try router.send([.bytes(request[0].bytes), .floats(payload)])
            _ = try dealer.receiveMessage()
        }

        try roundTrip()  // connect and warm up
        let start = ContinuousClock.now
        for _ in 0..<configuration.roundTripsPerRepetition { try roundTrip() }
        return start.duration(to: .now) / .seconds(1)
    }

    /// The Sextant path: client sends an update, server decodes and validates it and
    /// replies with an assignment carrying a model of the same size, client decodes it.
    private func measureSextant() async throws(WireError) -> Double {
        let count = configuration.payloadCount
        let serverContext = try ZMQContext()
        let clientContext = try ZMQContext()
        var serverOptions: [ZMQSocketOption] = [.routerMandatory(true), .routerHandover(true)]
        var clientOptions: [ZMQSocketOption] = [.routingID(Array("bench".utf8))]
        var authenticator: ZAPHandler?
        if configuration.curve {
            let serverKeys = try CurveKeyPair.generate()
            let clientKeys = try CurveKeyPair.generate()
            authenticator = try await ZAPHandler(
                context: serverContext, allowList: try AllowList(text: "\(clientKeys.publicKey.z85) bench"),
                logger: logger)
            serverOptions += [.curveServer(true), .curveSecretKey(serverKeys.secretKey)]
            clientOptions += [
                .curveServerKey(serverKeys.publicKey), .curvePublicKey(clientKeys.publicKey),
                .curveSecretKey(clientKeys.secretKey),
            ]
        }
        defer { authenticator?.stop() }
        let server = try await SocketThread(
            context: serverContext,
            configuration: .init(
                type: .router, options: serverOptions, bindEndpoints: ["tcp://127.0.0.1:*"], lingerMilliseconds: 0,
                name: "sextant-bench-server"),
            logger: logger)
        let client = try await SocketThread(
            context: clientContext,
            configuration: .init(
                type: .dealer, options: clientOptions, connectEndpoints: server.boundEndpoints, lingerMilliseconds: 0,
                name: "sextant-bench-client"),
            logger: logger)
        let options = WireDecodingOptions(expectedPayloadCount: count)
        let delta = [Float](repeating: 0.001, count: count)
        let model = [Float](repeating: 0.5, count: count)

        let serverTask = Task { () -> WireError? in
            do throws(WireError) {
                for await frames in server.messages {
                    guard case .update(let update) = try WireCodec.decode(frames.dropFirst(), options: options) else {
                        throw WireError(.malformed, "benchmark server expected an update")
                    }
                    let assignment = AssignmentMessage(
                        runID: "bench", modelVersion: update.updateID, localSteps: 1, learningRate: 0.1,
                        batchSize: 1, model: FloatPayload(model))
                    try await server.send([.bytes(frames[0].bytes)] + WireCodec.encode(.assignment(assignment)))
                }
                return nil
            } catch {
                await client.shutdown()  // ends the client's wait for a reply
                return error
            }
        }
        defer { serverTask.cancel() }

        var inbox = client.messages.makeAsyncIterator()
        func roundTrip(_ id: UInt64) async throws(WireError) {
            let update = UpdateMessage(
                updateID: id, baseVersion: 0, stepsDone: 1, computeSeconds: 0, sampleCount: 1, trainLoss: 0,
                normBeforeClip: 0, clipped: false, delta: FloatPayload(delta))
            try await client.send(WireCodec.encode(.update(update)))
            guard let reply = await inbox.next() else {
                throw await serverTask.value ?? WireError(.closed, "benchmark server went away")
            }
            guard case .assignment = try WireCodec.decode(reply, options: options) else {
                throw WireError(.malformed, "benchmark client expected an assignment")
            }
        }

        try await roundTrip(0)
        let start = ContinuousClock.now
        for id in 1...UInt64(configuration.roundTripsPerRepetition) { try await roundTrip(id) }
        let elapsed = start.duration(to: .now) / .seconds(1)
        await client.shutdown()
        await server.shutdown()
        return elapsed
    }
}
