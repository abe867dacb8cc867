/// Turns `WireMessage`s into frames and back. Decoding validates everything and throws a
/// `WireError` whose `replyCode` can be sent back; it never traps on any input.
public enum WireCodec {
    /// The protocol version this build speaks. Version 3 added the join's secure
    /// aggregation flag; version 2 added `uploadRequest`, `uploadGrant` and `wait`, which
    /// version 1 expressed as heartbeats (docs/design.md section 4); peers of different
    /// versions refuse each other's messages.
    public static let protocolVersion: UInt16 = 4

    /// The oldest version whose `error` message has today's layout: a refusal of a peer of
    /// a version from here to ours is written in the peer's version, so it can read it.
    public static let oldestReadableErrorVersion: UInt16 = 1

    /// Header, metadata and, for assignments and updates, the payload sent zero-copy.
    public static func encode(_ message: WireMessage) -> [OutboundFrame] {
        if case .cohort(let cohort) = message {
            var writer = ByteWriter(capacity: 128)
            cohort.write(to: &writer)
            let body = cohort.body
            let header = WireHeader(
                type: .cohort, flags: .hasPayload, metadataLength: UInt32(writer.bytes.count),
                payloadCount: UInt32(clamping: body.count))
            return [.bytes(header.encoded), .bytes(writer.bytes), .bytes(body)]
        }
        let metadata = metadata(of: message)
        var writer = ByteWriter(capacity: 128)
        metadata.write(to: &writer)
        let payload = metadata.payload
        let header = WireHeader(
            type: message.type, flags: payload == nil ? [] : .hasPayload,
            metadataLength: UInt32(writer.bytes.count),
            payloadCount: UInt32(clamping: payload?.count ?? 0))
        var frames: [OutboundFrame] = [.bytes(header.encoded), .bytes(writer.bytes)]
        if let payload { frames.append(payload.outboundFrame) }
        return frames
    }

    /// An `error` reply to a peer that speaks protocol version `peerVersion`. It is written
    /// in the peer's version when that is older than ours but has today's `error` layout,
    /// so an old peer can read why it was refused; in ours otherwise.
    public static func encodeRefusal(_ reply: ErrorReplyMessage, peerVersion: UInt16) -> [OutboundFrame] {
        var frames = encode(.error(reply))
        guard (oldestReadableErrorVersion..<protocolVersion).contains(peerVersion) else { return frames }
        var writer = ByteWriter(capacity: 128)
        reply.write(to: &writer)
        let header = WireHeader(
            version: peerVersion, type: .error, flags: [], metadataLength: UInt32(writer.bytes.count), payloadCount: 0)
        frames[0] = .bytes(header.encoded)
        return frames
    }

    /// Decodes the frames of one message (without a ROUTER's routing-id frame).
    public static func decode<Frames: RandomAccessCollection<ZMQFrame>>(
        _ frames: Frames, options: WireDecodingOptions = WireDecodingOptions()
    ) throws(WireError) -> WireMessage {
        guard let first = frames.first else { throw WireError(.malformed, "empty message") }
        let header = try WireHeader(decoding: first.bytes)
        let expectedFrames = header.type.hasPayload ? 3 : 2
        guard header.flags.contains(.hasPayload) == header.type.hasPayload else {
            throw WireError(.malformed, "\(header.type) message has a wrong payload flag")
        }
        guard frames.count == expectedFrames else {
            throw WireError(
                .malformed, "\(header.type) message has \(frames.count) frames, expected \(expectedFrames)")
        }
        let metadataFrame = frames[frames.index(after: frames.startIndex)]
        guard Int(header.metadataLength) <= options.maxMetadataBytes else {
            throw WireError(
                .malformed, "metadata of \(header.metadataLength) bytes exceeds \(options.maxMetadataBytes)")
        }
        guard metadataFrame.count == Int(header.metadataLength) else {
            throw WireError(
                .malformed,
                "metadata frame is \(metadataFrame.count) bytes, header says \(header.metadataLength)")
        }
        var payload: FloatPayload?
        if header.type == .cohort {
            let body = try decodeCohortBody(
                frames[frames.index(before: frames.endIndex)], header: header, options: options)
            var reader = ByteReader(metadataFrame.bytes, maxStringBytes: options.maxStringBytes)
            let message = try CohortMessage(reading: &reader, body: body)
            try reader.expectEnd(of: "cohort")
            return .cohort(message)
        } else if header.type.hasPayload {
            payload = try decodePayload(frames[frames.index(before: frames.endIndex)], header: header, options: options)
        } else if header.payloadCount != 0 {
            throw WireError(.malformed, "\(header.type) message declares a payload count of \(header.payloadCount)")
        }
        var reader = ByteReader(metadataFrame.bytes, maxStringBytes: options.maxStringBytes)
        let message = try decodeMetadata(header.type, reader: &reader, payload: payload)
        try reader.expectEnd(of: "\(header.type)")
        return message
    }

    /// A cohort message's body: at most the model's ring values (4 bytes each) and the
    /// protocol's keys and shares; the module checks the rest.
    private static func decodeCohortBody(
        _ frame: ZMQFrame, header: WireHeader, options: WireDecodingOptions
    ) throws(WireError) -> [UInt8] {
        let limit = (options.expectedPayloadCount ?? options.maxPayloadCount) * 4 + CohortMessage.maxProtocolBytes
        guard Int(header.payloadCount) <= limit else {
            throw WireError(
                .wrongPayloadSize, "cohort body of \(header.payloadCount) bytes exceeds the limit of \(limit)")
        }
        guard frame.count == Int(header.payloadCount) else {
            throw WireError(
                .wrongPayloadSize, "cohort body frame is \(frame.count) bytes, header says \(header.payloadCount)")
        }
        return frame.bytes
    }

    private static func decodePayload(
        _ frame: ZMQFrame, header: WireHeader, options: WireDecodingOptions
    ) throws(WireError) -> FloatPayload {
        let count = Int(header.payloadCount)
        guard count <= options.maxPayloadCount else {
            throw WireError(
                .wrongPayloadSize, "payload of \(count) values exceeds the limit of \(options.maxPayloadCount)")
        }
        // An evaluate without a model refers to the model of the client's assignment of the
        // same version (protocol 4): the only payload that may be empty.
        if let expected = options.expectedPayloadCount, count != expected, !(header.type == .evaluate && count == 0) {
            throw WireError(.wrongPayloadSize, "payload has \(count) values, the model has \(expected) parameters")
        }
        guard frame.count == count * MemoryLayout<Float>.size else {
            throw WireError(
                .wrongPayloadSize,
                "payload frame is \(frame.count) bytes, header says \(count) Float32 values (\(count * 4) bytes)")
        }
        var payload = FloatPayload(frame: frame)
        payload.measuredL2Norm = try payload.withUnsafeBufferPointer { (values) throws(WireError) -> Double? in
            let nonFinite = { () -> WireError in
                let index = values.firstIndex { !$0.isFinite } ?? 0
                return WireError(.nonFinite, "payload value \(index) is \(values[index]), must be finite")
            }
            guard let limit = options.maxPayloadNorm else {
                guard FloatPayload.allFinite(values) else { throw nonFinite() }
                return nil
            }
            // One pass, not two: squares of finite Float32 values summed in Double stay
            // finite, so the norm is finite exactly when every value is.
            let norm = FloatPayload.l2Norm(values)
            guard norm.isFinite else { throw nonFinite() }
            guard norm <= limit else {
                throw WireError(.normTooLarge, "payload L2 norm \(norm) exceeds the limit of \(limit)")
            }
            return norm
        }
        guard options.copiesPayload else { return payload }
        var copy = FloatPayload(payload.floats)
        copy.measuredL2Norm = payload.measuredL2Norm
        return copy
    }

    private static func metadata(of message: WireMessage) -> any WireMetadata {
        switch message {
        case .join(let join): join
        case .assignment(let assignment): assignment
        case .update(let update): update
        case .heartbeat(let heartbeat): heartbeat
        case .uploadRequest(let request): request
        case .uploadGrant(let grant): grant
        case .wait(let wait): wait
        case .ack(let ack): ack
        case .error(let error): error
        case .bye(let bye): bye
        case .evaluate(let evaluate): evaluate
        case .evaluation(let evaluation): evaluation
        case .statistics(let statistics): statistics
        case .agreement(let agreement): agreement
        case .cohort: preconditionFailure("cohort messages are encoded by encode(_:)")
        }
    }

    private static func decodeMetadata(
        _ type: WireMessageType, reader: inout ByteReader, payload: FloatPayload?
    ) throws(WireError) -> WireMessage {
        switch type {
        case .join: .join(try JoinMessage(reading: &reader, payload: payload))
        case .assignment: .assignment(try AssignmentMessage(reading: &reader, payload: payload))
        case .update: .update(try UpdateMessage(reading: &reader, payload: payload))
        case .heartbeat: .heartbeat(try HeartbeatMessage(reading: &reader, payload: payload))
        case .uploadRequest: .uploadRequest(try UploadRequestMessage(reading: &reader, payload: payload))
        case .uploadGrant: .uploadGrant(try UploadGrantMessage(reading: &reader, payload: payload))
        case .wait: .wait(try WaitMessage(reading: &reader, payload: payload))
        case .ack: .ack(try AckMessage(reading: &reader, payload: payload))
        case .error: .error(try ErrorReplyMessage(reading: &reader, payload: payload))
        case .bye: .bye(try ByeMessage(reading: &reader, payload: payload))
        case .evaluate: .evaluate(try EvaluateMessage(reading: &reader, payload: payload))
        case .evaluation: .evaluation(try EvaluationMessage(reading: &reader, payload: payload))
        case .statistics: .statistics(try StatisticsMessage(reading: &reader, payload: payload))
        case .agreement: .agreement(try AgreementMessage(reading: &reader, payload: payload))
        case .cohort: throw WireError(.malformed, "cohort messages are decoded with their body")
        }
    }
}
