import SextantWire
import Testing

@Suite("Wire codec")
struct WireCodecTests {
    @Test("every message type survives an encode/decode round trip", arguments: sampleMessages)
    func roundTrip(message: WireMessage) throws {
        let decoded = try WireCodec.decode(receivedFrames(WireCodec.encode(message)))
        #expect(decoded == message)
    }

    /// docs/design.md 4 and 13: a join says whether the client's configuration uses secure
    /// aggregation, so that a server of the other setting refuses it before any training.
    @Test("a join ends with its secure aggregation flag, and a join without it is malformed")
    func joinDeclaresSecureAggregation() throws {
        let join = JoinMessage(clientName: "a", sampleCount: 1, modelFingerprint: "m", secureAggregation: true)
        let frames = frameBytes(WireCodec.encode(.join(join)))
        // name (4 + 1), samples (8), fingerprint (4 + 1), no last version (1), histogram (4), flag (1).
        #expect(frames[1].count == 5 + 8 + 5 + 1 + 4 + 1)
        #expect(frames[1].last == 1)
        var cut = receivedFrames(WireCodec.encode(.join(join)))
        var header = try WireHeader(decoding: cut[0].bytes)
        header.metadataLength -= 1
        cut[0] = ZMQFrame(bytes: header.encoded)
        cut[1] = ZMQFrame(bytes: Array(frames[1].dropLast()))
        #expect(throws: WireError.self) { try WireCodec.decode(cut) }
        var other = receivedFrames(WireCodec.encode(.join(join)))
        other[1] = ZMQFrame(bytes: Array(frames[1].dropLast()) + [2])
        #expect(throws: WireError.self) { try WireCodec.decode(other) }
    }

    @Test("a heartbeat encodes to these exact bytes")
    func knownBytes() throws {
        let frames = frameBytes(
            WireCodec.encode(.heartbeat(HeartbeatMessage(modelVersion: 0x0102_0304_0506_0708, state: .training))))
        #expect(frames.count == 2)
        let header: [UInt8] = [
            0x53, 0x58, 0x54, 0x31,  // "SXT1"
            0x04, 0x00,  // protocol version 4
            0x04,  // heartbeat
            0x00,  // flags: no payload
            0x09, 0x00, 0x00, 0x00,  // metadata length 9
            0x00, 0x00, 0x00, 0x00,  // payload count 0
        ]
        #expect(frames[0] == header)
        #expect(frames[1] == [0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x01])
    }

    @Test("upload requests, grants and waits have type bytes of their own, and known bytes")
    func uploadMessagesKnownBytes() throws {
        #expect(Set(WireMessageType.allCases.map(\.rawValue)).count == WireMessageType.allCases.count)
        let request = frameBytes(
            WireCodec.encode(.uploadRequest(UploadRequestMessage(updateID: 0x0102, baseVersion: 0x0304))))
        #expect(request[0][6] == 8)
        #expect(request[1] == [0x02, 0x01, 0, 0, 0, 0, 0, 0, 0x04, 0x03, 0, 0, 0, 0, 0, 0])
        let grant = frameBytes(WireCodec.encode(.uploadGrant(UploadGrantMessage(modelVersion: 5))))
        #expect(grant[0][6] == 9)
        #expect(grant[1] == [5, 0, 0, 0, 0, 0, 0, 0])
        let wait = frameBytes(WireCodec.encode(.wait(WaitMessage(modelVersion: 6))))
        #expect(wait[0][6] == 10)
        #expect(wait[1] == [6, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test("a refusal of an older peer is written in its version, of a newer one in ours")
    func refusalInThePeersVersion() throws {
        let reply = ErrorReplyMessage(code: .unsupportedVersion, text: "upgrade the client")
        let old = frameBytes(WireCodec.encodeRefusal(reply, peerVersion: 1))
        #expect(Array(old[0][4..<6]) == [1, 0])
        #expect(Array(old[1...]) == Array(frameBytes(WireCodec.encode(.error(reply)))[1...]))
        // The same bytes with our version decode to the reply: only the version differs.
        var current = old
        current[0][4] = UInt8(WireCodec.protocolVersion)
        #expect(try WireCodec.decode(current.map { ZMQFrame(bytes: $0) }) == .error(reply))

        let newer = frameBytes(WireCodec.encodeRefusal(reply, peerVersion: WireCodec.protocolVersion + 1))
        #expect(try WireCodec.decode(newer.map { ZMQFrame(bytes: $0) }) == .error(reply))
        let unknown = frameBytes(WireCodec.encodeRefusal(reply, peerVersion: 0))
        #expect(try WireCodec.decode(unknown.map { ZMQFrame(bytes: $0) }) == .error(reply))
    }

    @Test("a known header decodes field by field")
    func decodeKnownHeader() throws {
        let header = try WireHeader(decoding: [
            0x53, 0x58, 0x54, 0x31, 0x04, 0x00, 0x03, 0x01, 0x2A, 0x00, 0x00, 0x00, 0x10, 0x27, 0x00, 0x00,
        ])
        #expect(header.version == 4)
        #expect(header.type == .update)
        #expect(header.flags == .hasPayload)
        #expect(header.metadataLength == 42)
        #expect(header.payloadCount == 10_000)
    }

    @Test("an update's payload is little-endian Float32 after a 16-byte header")
    func payloadLayout() throws {
        let update = UpdateMessage(
            updateID: 1, baseVersion: 0, stepsDone: 1, computeSeconds: 1, sampleCount: 1, trainLoss: 1,
            normBeforeClip: 1, clipped: false, delta: FloatPayload([1.0, -2.0]))
        let frames = frameBytes(WireCodec.encode(.update(update)))
        #expect(frames.count == 3)
        #expect(frames[0][6] == WireMessageType.update.rawValue)
        #expect(Array(frames[0][12..<16]) == [2, 0, 0, 0])
        #expect(frames[2] == [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0])
    }

    @Test("a decoded payload reads the received frame in place unless asked to copy")
    func payloadStorage() throws {
        let frames = receivedFrames(WireCodec.encode(sampleMessages[3]))
        guard case .update(let inPlace) = try WireCodec.decode(frames) else {
            Issue.record("not an update")
            return
        }
        #expect(inPlace.delta.isReceivedFrame)
        let frameAddress = frames[2].withUnsafeBytes { $0.baseAddress }
        let payloadAddress = inPlace.delta.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
        #expect(frameAddress == payloadAddress)

        let copied = try WireCodec.decode(frames, options: WireDecodingOptions(copiesPayload: true))
        guard case .update(let copy) = copied else { return }
        #expect(!copy.delta.isReceivedFrame)
        #expect(copy.delta.floats == [0.5, -0.25, 8])
    }

    @Test("a routing-id frame is skipped by decoding a slice")
    func decodeSlice() throws {
        let frames = [ZMQFrame(bytes: Array("client".utf8))] + receivedFrames(WireCodec.encode(sampleMessages[5]))
        #expect(try WireCodec.decode(frames.dropFirst()) == sampleMessages[5])
    }

    @Test("the finiteness check and the norm agree with plain loops")
    func validationHelpers() {
        var values = (0..<1003).map { Float($0 % 17) - 8 }
        let norm = values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        // Summation order differs: 1e-12 relative is far above Double rounding here.
        #expect(abs(FloatPayload(values).l2Norm - norm) <= norm * 1e-12)
        #expect(FloatPayload(values).allFinite)
        for bad in [Float.nan, .infinity, -.infinity, .signalingNaN] {
            values[1001] = bad
            #expect(!FloatPayload(values).allFinite)
        }
        values[1001] = .greatestFiniteMagnitude
        #expect(FloatPayload(values).allFinite)
    }

    @Test("an error reply carries a WireError's code and message")
    func errorReplyMapping() {
        let error = WireError(.wrongPayloadSize, "payload has 3 values, the model has 4 parameters")
        let reply = ErrorReplyMessage(error)
        #expect(reply.code == .wrongPayloadSize)
        #expect(WireError(reply: reply) == error)
        #expect(WireError(.hostUnreachable, "gone").replyCode == .internal)
    }
}
