import Logging
import SextantWire
import Testing

@Suite("SocketThread over loopback", .timeLimit(.minutes(1)))
struct SocketThreadTests {
    private let logger = Logger(label: "sextant.wire.tests")

    private func makeServer(_ context: ZMQContext) async throws -> SocketThread {
        try await SocketThread(
            context: context,
            configuration: .init(
                type: .router,
                options: [.routerMandatory(true), .routerHandover(true), .sendHighWaterMark(8)],
                bindEndpoints: ["tcp://127.0.0.1:*"], lingerMilliseconds: 0),
            logger: logger)
    }

    private func makeClient(_ context: ZMQContext, id: String, server: SocketThread) async throws -> SocketThread {
        try await SocketThread(
            context: context,
            configuration: .init(
                type: .dealer, options: [.routingID(Array(id.utf8)), .reconnectInterval(milliseconds: 50)],
                connectEndpoints: server.boundEndpoints, lingerMilliseconds: 0),
            logger: logger)
    }

    @Test("a DEALER joins, gets a model and sends a delta back, payloads read in place")
    func exchange() async throws {
        let context = try ZMQContext()
        let server = try await makeServer(context)
        let client = try await makeClient(context, id: "client-1", server: server)
        var serverInbox = server.messages.makeAsyncIterator()
        var clientInbox = client.messages.makeAsyncIterator()
        #expect(server.boundEndpoints.first?.hasPrefix("tcp://127.0.0.1:") == true)

        let join = JoinMessage(clientName: "client-1", sampleCount: 500, modelFingerprint: "mlp")
        try await client.send(WireCodec.encode(.join(join)))
        let received = try #require(await serverInbox.next())
        #expect(received[0].bytes == Array("client-1".utf8))
        #expect(received[1].peerAddress == "127.0.0.1")
        #expect(received[1].userID == nil)  // no ZAP handler, so no authenticated identity
        #expect(try WireCodec.decode(received.dropFirst()) == .join(join))

        let model = (0..<1000).map { Float($0) * 0.5 }
        let assignment = AssignmentMessage(
            runID: "r", modelVersion: 1, localSteps: 5, learningRate: 0.1, batchSize: 8, model: FloatPayload(model))
        try await server.send([.bytes(received[0].bytes)] + WireCodec.encode(.assignment(assignment)))
        let reply = try #require(await clientInbox.next())
        let decoded = try WireCodec.decode(reply, options: WireDecodingOptions(expectedPayloadCount: 1000))
        guard case .assignment(let got) = decoded else {
            Issue.record("expected an assignment, got \(decoded)")
            return
        }
        #expect(got == assignment)
        #expect(got.model.isReceivedFrame)

        let delta = model.map { -$0 / 100 }
        let update = UpdateMessage(
            updateID: 1, baseVersion: 1, stepsDone: 5, computeSeconds: 0.01, sampleCount: 500, trainLoss: 0.5,
            normBeforeClip: 1, clipped: false, delta: FloatPayload(delta))
        client.post(WireCodec.encode(.update(update)))
        let inbound = try #require(await serverInbox.next())
        let options = WireDecodingOptions(expectedPayloadCount: 1000, maxPayloadNorm: 1e6)
        #expect(try WireCodec.decode(inbound.dropFirst(), options: options) == .update(update))

        await client.shutdown()
        await server.shutdown()
        #expect(await clientInbox.next() == nil)
        await #expect(throws: WireError.self) { try await client.send([.bytes([1])]) }
    }

    @Test("the receive limit holds per message: a flood is read no further than the limit, and nothing is lost")
    func receiveLimitHolds() async throws {
        let context = try ZMQContext()
        let server = try await SocketThread(
            context: context,
            configuration: .init(
                type: .router, options: [.routerMandatory(true)], bindEndpoints: ["tcp://127.0.0.1:*"],
                lingerMilliseconds: 0, receiveBufferLimit: 4),
            logger: logger)
        let client = try await makeClient(context, id: "flood", server: server)
        for index in 0..<60 { client.post([.bytes([UInt8(index)])]) }
        // Let the socket thread read what it will; it must stop at the limit.
        var highest = 0
        for _ in 0..<40 {
            try await Task.sleep(for: .milliseconds(25))
            highest = max(highest, server.bufferedMessages)
        }
        #expect(highest <= 4)
        var inbox = server.messages.makeAsyncIterator()
        var received: [UInt8] = []
        while received.count < 60, let message = await inbox.next() {
            received.append(message[1].bytes[0])
            #expect(server.bufferedMessages <= 4)
        }
        #expect(received == (0..<60).map { UInt8($0) })
        await client.shutdown()
        await server.shutdown()
    }

    @Test("a send to an unknown ROUTER peer fails or is dropped, and the socket keeps working")
    func unknownPeer() async throws {
        let context = try ZMQContext()
        let server = try await makeServer(context)
        let client = try await makeClient(context, id: "known", server: server)
        var serverInbox = server.messages.makeAsyncIterator()
        var clientInbox = client.messages.makeAsyncIterator()

        let ack = WireCodec.encode(.ack(AckMessage(updateID: 1, acceptedVersion: 2)))
        let error = await #expect(throws: WireError.self) {
            try await server.send([.bytes(Array("nobody".utf8))] + ack)
        }
        #expect(error?.code == .hostUnreachable)
        server.post([.bytes(Array("nobody".utf8))] + ack)  // logged and dropped

        try await client.send(WireCodec.encode(.heartbeat(HeartbeatMessage(modelVersion: 0, state: .idle))))
        let heartbeat = try #require(await serverInbox.next())
        try await server.send([.bytes(heartbeat[0].bytes)] + ack)
        let reply = try #require(await clientInbox.next())
        #expect(try WireCodec.decode(reply) == .ack(AckMessage(updateID: 1, acceptedVersion: 2)))

        await client.shutdown()
        await server.shutdown()
    }

    @Test("a second connection with the same routing id takes over (ROUTER_HANDOVER)")
    func handover() async throws {
        let context = try ZMQContext()
        let server = try await makeServer(context)
        var serverInbox = server.messages.makeAsyncIterator()
        let heartbeat = WireCodec.encode(.heartbeat(HeartbeatMessage(modelVersion: 4, state: .training)))

        // The first connection stays open: without handover the second would be refused.
        let first = try await makeClient(context, id: "silo-7", server: server)
        try await first.send(heartbeat)
        #expect(try #require(await serverInbox.next())[0].bytes == Array("silo-7".utf8))

        let second = try await makeClient(context, id: "silo-7", server: server)
        var secondInbox = second.messages.makeAsyncIterator()
        let bye = WireCodec.encode(.bye(ByeMessage(reason: .done, text: "from the new connection")))
        try await second.send(bye)
        let fromSecond = try #require(await serverInbox.next())
        #expect(fromSecond[0].bytes == Array("silo-7".utf8))
        #expect(try WireCodec.decode(fromSecond.dropFirst()) == WireCodec.decode(receivedFrames(bye)))

        // Replies to the routing id now reach the new connection.
        let ack = WireCodec.encode(.ack(AckMessage(updateID: 3, acceptedVersion: 5)))
        try await server.send([.bytes(Array("silo-7".utf8))] + ack)
        let reply = try #require(await secondInbox.next())
        #expect(try WireCodec.decode(reply) == .ack(AckMessage(updateID: 3, acceptedVersion: 5)))

        await first.shutdown()
        await second.shutdown()
        await server.shutdown()
    }

    /// A server posts its goodbyes and shuts its socket at once; every goodbye must still
    /// leave, in order. The stop used to overtake the queue now and then (clients then
    /// waited forever for a finished server), so the race is run several times.
    @Test("messages posted right before shutdown are sent, not dropped", arguments: 0..<10)
    func postedBeforeShutdown(attempt: Int) async throws {
        let context = try ZMQContext()
        let server = try await SocketThread(
            context: context,
            configuration: .init(
                type: .router, options: [.routerMandatory(true)], bindEndpoints: ["tcp://127.0.0.1:*"],
                lingerMilliseconds: 2000),
            logger: logger)
        let client = try await makeClient(context, id: "leaving-\(attempt)", server: server)
        var serverInbox = server.messages.makeAsyncIterator()
        var clientInbox = client.messages.makeAsyncIterator()
        try await client.send(WireCodec.encode(.heartbeat(HeartbeatMessage(modelVersion: 0, state: .idle))))
        let hello = try #require(await serverInbox.next())

        for round in 0..<20 {
            server.post(
                [.bytes(hello[0].bytes)] + WireCodec.encode(.bye(ByeMessage(reason: .done, text: "bye \(round)"))))
        }
        await server.shutdown()
        for round in 0..<20 {
            let frames = try #require(await clientInbox.next(), "goodbye \(round) never arrived")
            #expect(try WireCodec.decode(frames) == .bye(ByeMessage(reason: .done, text: "bye \(round)")))
        }
        await client.shutdown()
    }

    @Test("a bad endpoint fails the start, naming the endpoint")
    func badEndpoint() async throws {
        let context = try ZMQContext()
        let error = await #expect(throws: WireError.self) {
            _ = try await SocketThread(
                context: context, configuration: .init(type: .router, bindEndpoints: ["tcp://nowhere:-1"]),
                logger: logger)
        }
        #expect(error?.message.contains("tcp://nowhere:-1") == true)
    }

    @Test("a float array sent over inproc arrives in the same memory: zero copy end to end")
    func zeroCopyInproc() throws {
        let context = try ZMQContext()
        let receiver = try ZMQSocket(context: context, type: .pair)
        try receiver.setOption(.linger(milliseconds: 0))
        try receiver.bind(to: "inproc://zero-copy-test")
        let sender = try ZMQSocket(context: context, type: .pair)
        try sender.setOption(.linger(milliseconds: 0))
        try sender.connect(to: "inproc://zero-copy-test")

        let values: [Float] = (0..<4096).map(Float.init)
        let address = values.withUnsafeBytes { $0.baseAddress }
        try sender.send([.bytes([1, 2]), .floats(values)])
        let ready = try ZMQPoller.poll([(receiver, .readable)], timeoutMilliseconds: 5000)
        #expect(ready == [.readable])
        let frames = try receiver.receiveMessage()
        #expect(frames.count == 2)
        #expect(frames[1].withUnsafeBytes { $0.baseAddress } == address)
        #expect(frames[1].bytes == values.withUnsafeBytes { Array($0) })
    }
}
