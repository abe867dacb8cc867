import Foundation
import SextantStore
import SextantWire
import Testing

extension IntegrationTests {
    @Suite("Garbage input")
    struct GarbageInputTests {
        /// docs/design.md 4: bad input is answered with an error and a log line; the server never
        /// crashes and never applies it. A test DEALER sends garbage to a server in the middle
        /// of a run with 2 real clients, which must still finish.
        @Test("the server answers garbage with the right error code and finishes the run")
        func rejectsGarbage() async throws {
            try IntegrationEnvironment.requireDataset()
            for name in ["sextant", "sextant-server", "sextant-client"] {
                _ = try IntegrationEnvironment.executable(name)
            }
            let fixture = try FederationFixture(name: "garbage")
            defer { fixture.tearDown() }
            var configuration = fixture.configuration(name: "garbage")
            configuration.clientCount = 2
            configuration.minClients = 2
            configuration.trainingLimit = 10_000
            configuration.maxVersions = 8
            configuration.targetAccuracy = 0
            configuration.maxUpdateNorm = 1_000
            let config = try fixture.write(configuration.yaml)

            let server = try fixture.startServer(config: config)
            let serving = try await fixture.waitForLogLine(server, containing: "serving", timeout: .seconds(60))
            let fingerprint = try #require(
                serving.flatMap { LogLines.value(of: "model", in: $0) }, "no serving line\n\(fixture.diagnostics())")
            let parameterCount = try #require(
                fingerprint.split(separator: ":").last.flatMap { Int($0) }, "\(fingerprint)")
            // 0.05 s per step: a round lasts about a second, so the run outlives the probes.
            let clients = try (0..<configuration.clientCount).map {
                try fixture.startClient(config: config, index: $0, timePerStep: 0.05)
            }
            let running = try await fixture.wait(timeout: .seconds(60)) {
                try !server.isRunning || (fixture.latestVersion() ?? 0) >= 1
            }
            try #require(running && server.isRunning, "the run did not start\n\(fixture.diagnostics())")

            let peer = "it-garbage"
            let probes = Self.probes(peer: peer, fingerprint: fingerprint, parameterCount: parameterCount)
            let outcomes = try await ProbeSession.run(probes, endpoint: fixture.endpoint, routingID: peer)
            for outcome in outcomes {
                switch outcome.probe.expectation {
                case .error(let code):
                    #expect(outcome.errorCode == code, "expected \(code): \(outcome.summary)")
                case .admitted:
                    #expect(outcome.reply != nil && outcome.errorCode == nil, "expected admission: \(outcome.summary)")
                }
            }
            #expect(server.isRunning, "the server died on garbage\n\(fixture.diagnostics())")

            // Each refusal is logged with its code; the first bytes were not a Sextant message.
            let rejections = LogLines.all(in: server.standardError, containing: "rejected message")
            let expectedCodes = Set(
                probes.compactMap { probe -> ErrorReplyMessage.Code? in
                    if case .error(let code) = probe.expectation { return code }
                    return nil
                })
            for code in expectedCodes {
                #expect(
                    rejections.contains { $0.contains("code=\(code)") }, "no 'rejected message' line with code=\(code)")
            }
            #expect(rejections.contains { $0.contains("not a Sextant message") })
            #expect(
                rejections.count >= probes.count - 1,
                "\(rejections.count) rejections logged for \(probes.count - 1) bad messages")

            // A flood from one peer: its messages beyond the rate limit are dropped and logged.
            let flood = WireCodec.encode(.heartbeat(HeartbeatMessage(modelVersion: 0, state: .idle)))
            let endpoint = fixture.endpoint
            try await onDedicatedThread {
                let context = try ZMQContext()
                let socket = try ZMQSocket(context: context, type: .dealer)
                defer { socket.close() }
                try socket.setOptions([.routingID(Array("it-flood".utf8)), .linger(milliseconds: 2000)])
                try socket.connect(to: endpoint)
                for _ in 0..<500 { try socket.send(flood) }
            }
            let limited = try await fixture.waitForLogLine(
                server, containing: "over its rate limit", timeout: .seconds(20))
            #expect(limited?.contains("client=it-flood") == true, "\(limited ?? "no rate-limit line")")
            #expect(
                LogLines.all(in: server.standardError, containing: "it-flood").count < 100, "the flood flooded the log")

            // The run goes on to the end, and nothing the probe sent was stored or applied.
            for process in clients + [server] {
                let ended = try await process.waitForExit(timeout: .seconds(120))
                try #require(ended, "\(process.name) did not finish\n\(fixture.diagnostics())")
            }
            #expect(server.exitedSuccessfully, "\(fixture.diagnostics())")
            for client in clients {
                #expect(client.exitedSuccessfully, "\(client.tail())")
            }
            let store = try fixture.openStore()
            let run = try #require(try store.latestRun())
            #expect(run.status == .completed)
            #expect(try store.checkpointVersions(run: run.id) == Array(0...configuration.maxVersions))
            let report = try store.verify()
            #expect(report.isOK, "\(report)")
            let updates = try store.updates(run: run.id)
            #expect(!updates.contains { $0.client == peer }, "an update of the garbage peer was stored")
            #expect(updates.allSatisfy { $0.state != .buffered })
        }

        /// Garbage first, then the protocol's own messages with one thing wrong each.
        static func probes(peer: String, fingerprint: String, parameterCount: Int) -> [Probe] {
            var probes: [Probe] = []
            var random = SplitMix64(seed: 0x5EC7_A17)
            for index in 0..<12 {
                let frameCount = Int.random(in: 1...3, using: &random)
                let frames: [OutboundFrame] = (0..<frameCount).map { _ in
                    .bytes(
                        (0..<Int.random(in: 0...48, using: &random)).map { _ in
                            UInt8.random(in: 0...255, using: &random)
                        })
                }
                probes.append(Probe(name: "random bytes #\(index)", frames: frames, expectation: .error(.malformed)))
            }

            let heartbeat = WireCodec.encode(.heartbeat(HeartbeatMessage(modelVersion: 0, state: .idle)))
            let header = Self.bytes(heartbeat[0])
            func withHeader(_ bytes: [UInt8]) -> [OutboundFrame] { [.bytes(bytes)] + heartbeat.dropFirst() }
            probes.append(
                Probe(
                    name: "truncated header", frames: withHeader(Array(header.prefix(10))),
                    expectation: .error(.malformed)))
            probes.append(
                Probe(name: "magic only", frames: [.bytes(Array("SXT1".utf8))], expectation: .error(.malformed)))
            var wrongMagic = header
            wrongMagic.replaceSubrange(0..<4, with: Array("SXT9".utf8))
            probes.append(Probe(name: "wrong magic", frames: withHeader(wrongMagic), expectation: .error(.malformed)))
            let version2 = WireHeader(
                version: WireCodec.protocolVersion + 1, type: .heartbeat, flags: [],
                metadataLength: UInt32(Self.bytes(heartbeat[1]).count),
                payloadCount: 0)
            probes.append(
                Probe(
                    name: "wrong protocol version", frames: withHeader(version2.encoded),
                    expectation: .error(.unsupportedVersion)))
            var unknownType = header
            unknownType[6] = 42
            probes.append(
                Probe(name: "unknown message type", frames: withHeader(unknownType), expectation: .error(.unknownType)))
            var payloadFlag = header
            payloadFlag[7] = WireHeader.Flags.hasPayload.rawValue
            probes.append(
                Probe(
                    name: "payload flag on a heartbeat", frames: withHeader(payloadFlag),
                    expectation: .error(.malformed)))
            probes.append(
                Probe(name: "metadata frame missing", frames: [heartbeat[0]], expectation: .error(.malformed)))

            let zeros = [Float](repeating: 0, count: parameterCount)
            probes.append(
                Probe(name: "update before joining", frames: update(1, delta: zeros), expectation: .error(.notJoined)))
            probes.append(Probe(name: "heartbeat before joining", frames: heartbeat, expectation: .error(.notJoined)))
            probes.append(
                Probe(
                    name: "join with another model", frames: join(peer, fingerprint: "cnn:1x28x28:10:1"),
                    expectation: .error(.fingerprintMismatch)))
            probes.append(
                Probe(
                    name: "join under another name", frames: join("someone-else", fingerprint: fingerprint),
                    expectation: .error(.rejected)))
            probes.append(Probe(name: "join", frames: join(peer, fingerprint: fingerprint), expectation: .admitted))

            probes.append(
                Probe(
                    name: "ack sent to the server",
                    frames: WireCodec.encode(.ack(AckMessage(updateID: 1, acceptedVersion: 0))),
                    expectation: .error(.malformed)))
            probes.append(
                Probe(
                    name: "payload of the wrong length",
                    frames: update(2, delta: [Float](repeating: 0, count: parameterCount - 1)),
                    expectation: .error(.wrongPayloadSize)))
            var payloadFrames = update(3, delta: zeros)
            payloadFrames[2] = .bytes([UInt8](repeating: 0, count: parameterCount * 4 - 2))
            probes.append(
                Probe(
                    name: "payload frame shorter than its header says", frames: payloadFrames,
                    expectation: .error(.wrongPayloadSize)))
            var nan = zeros
            nan[parameterCount / 2] = .nan
            probes.append(
                Probe(name: "NaN in the delta", frames: update(4, delta: nan), expectation: .error(.nonFinite)))
            var infinity = zeros
            infinity[parameterCount - 1] = -.infinity
            probes.append(
                Probe(
                    name: "infinity in the delta", frames: update(5, delta: infinity), expectation: .error(.nonFinite)))
            probes.append(
                Probe(
                    name: "NaN train loss", frames: update(6, delta: zeros, trainLoss: .nan),
                    expectation: .error(.nonFinite)))
            // Every value 10: norm 10 * sqrt(parameterCount), far above max_update_norm 1000.
            probes.append(
                Probe(
                    name: "absurd norm", frames: update(7, delta: [Float](repeating: 10, count: parameterCount)),
                    expectation: .error(.normTooLarge)))
            probes.append(
                Probe(
                    name: "base version from the future", frames: update(8, base: 1_000_000, delta: zeros),
                    expectation: .error(.rejected)))
            return probes
        }

        static func join(_ name: String, fingerprint: String) -> [OutboundFrame] {
            WireCodec.encode(.join(JoinMessage(clientName: name, sampleCount: 100, modelFingerprint: fingerprint)))
        }

        static func update(_ id: UInt64, base: UInt64 = 0, delta: [Float], trainLoss: Double = 0.5) -> [OutboundFrame] {
            WireCodec.encode(
                .update(
                    UpdateMessage(
                        updateID: id, baseVersion: base, stepsDone: 20, computeSeconds: 0.1, sampleCount: 100,
                        trainLoss: trainLoss,
                        normBeforeClip: 1, clipped: false, delta: FloatPayload(delta))))
        }

        static func bytes(_ frame: OutboundFrame) -> [UInt8] {
            switch frame {
            case .bytes(let bytes): bytes
            case .floats(let floats): floats.withUnsafeBytes { Array($0) }
            }
        }
    }
}
