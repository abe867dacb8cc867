import Testing

@testable import SextantWire

/// Secure aggregation's message (docs/design.md 13): an invitation, or a protocol step whose
/// body the wire only bounds.
@Suite("Cohort messages")
struct CohortMessageTests {
    static let invitation = CohortMessage.Invitation(
        member: 2, members: 4, threshold: 3, bits: 32, clipNorm: 10, maxMembers: 4, weight: 0.25, baseVersion: 7)
    static let report = CohortMessage.Report(
        updateID: 99, baseVersion: 7, stepsDone: 20, computeSeconds: 1.5, sampleCount: 1600)

    static func decode(_ message: WireMessage, parameters: Int = 8) throws(WireError) -> WireMessage {
        try WireCodec.decode(
            receivedFrames(WireCodec.encode(message)), options: WireDecodingOptions(expectedPayloadCount: parameters))
    }

    @Test("an invitation and a step with its report round-trip with type byte 15")
    func roundTrip() throws {
        let messages: [WireMessage] = [
            .cohort(CohortMessage(runID: "r", cohort: 1 << 40, content: .invitation(Self.invitation))),
            .cohort(CohortMessage(runID: "r", cohort: 5, content: .step(body: [0x53, 0x41, 1, 2], report: nil))),
            .cohort(
                CohortMessage(
                    runID: "r", cohort: 5, content: .step(body: [UInt8](repeating: 7, count: 40), report: Self.report))),
        ]
        for message in messages {
            let frames = receivedFrames(WireCodec.encode(message))
            #expect(frames.count == 3)
            #expect(frames[0].bytes[6] == 15)
            #expect(try Self.decode(message) == message)
        }
    }

    @Test("a body larger than the model's ring values and the protocol's bytes is refused")
    func oversizedBody() {
        let body = [UInt8](repeating: 0, count: 8 * 4 + CohortMessage.maxProtocolBytes + 1)
        let message = WireMessage.cohort(CohortMessage(runID: "r", cohort: 1, content: .step(body: body, report: nil)))
        let error = #expect(throws: WireError.self) { try Self.decode(message) }
        #expect(error?.code == .wrongPayloadSize)
    }

    @Test(
        "an invitation that cannot be honoured is malformed",
        arguments: [
            (UInt32(0), UInt32(4), UInt32(3), UInt8(32)),  // member 0
            (5, 4, 3, 32),  // member beyond the cohort
            (1, 4, 1, 32),  // threshold below 2
            (1, 4, 4, 32),  // threshold not below the cohort
            (1, 4, 3, 40),  // more than 32 bits
        ])
    func badInvitations(member: UInt32, members: UInt32, threshold: UInt32, bits: UInt8) {
        var invitation = Self.invitation
        invitation.member = member
        invitation.members = members
        invitation.threshold = threshold
        invitation.bits = bits
        let message = WireMessage.cohort(CohortMessage(runID: "r", cohort: 1, content: .invitation(invitation)))
        let error = #expect(throws: WireError.self) { try Self.decode(message) }
        #expect(error?.code == .malformed)
    }

    @Test("an empty step, a body on an invitation and an unknown kind are malformed")
    func malformed() throws {
        let empty = WireMessage.cohort(CohortMessage(runID: "r", cohort: 1, content: .step(body: [], report: nil)))
        #expect(throws: WireError.self) { try Self.decode(empty) }
        // An invitation's frames with a body attached.
        var frames = receivedFrames(
            WireCodec.encode(.cohort(CohortMessage(runID: "r", cohort: 1, content: .invitation(Self.invitation)))))
        var header = try WireHeader(decoding: frames[0].bytes)
        header.payloadCount = 2
        frames[0] = ZMQFrame(bytes: header.encoded)
        frames[2] = ZMQFrame(bytes: [1, 2])
        #expect(throws: WireError.self) { try WireCodec.decode(frames) }
        // Kind byte 9: after the run string (4 + 1 bytes) and the cohort id (8 bytes).
        var step = receivedFrames(
            WireCodec.encode(.cohort(CohortMessage(runID: "r", cohort: 1, content: .step(body: [1], report: nil)))))
        var metadata = step[1].bytes
        metadata[13] = 9
        step[1] = ZMQFrame(bytes: metadata)
        #expect(throws: WireError.self) { try WireCodec.decode(step) }
    }

    /// A Compass member's announcement (docs/design.md 13): the report alone, no values.
    @Test("a ready claim round-trips byte by byte, and a body, a cut or a negative time is malformed")
    func readyClaim() throws {
        let ready = WireMessage.cohort(CohortMessage(runID: "r", cohort: 0, content: .ready(Self.report)))
        let frames = receivedFrames(WireCodec.encode(ready))
        #expect(frames.count == 3 && frames[2].bytes.isEmpty)
        // Run (4 + 1), cohort (8), kind 2, then the report: 8 + 8 + 4 + 8 + 8 bytes.
        #expect(frames[1].bytes.count == 5 + 8 + 1 + 36)
        #expect(frames[1].bytes[13] == 2)
        #expect(try Self.decode(ready) == ready)

        var withBody = frames
        var header = try WireHeader(decoding: frames[0].bytes)
        header.payloadCount = 4
        withBody[0] = ZMQFrame(bytes: header.encoded)
        withBody[2] = ZMQFrame(bytes: [1, 2, 3, 4])
        #expect(throws: WireError.self) { try WireCodec.decode(withBody) }

        for length in [13, 14, 30, frames[1].bytes.count - 1] {
            var cut = frames
            var cutHeader = try WireHeader(decoding: frames[0].bytes)
            cutHeader.metadataLength = UInt32(length)
            cut[0] = ZMQFrame(bytes: cutHeader.encoded)
            cut[1] = ZMQFrame(bytes: Array(frames[1].bytes.prefix(length)))
            #expect(throws: WireError.self, "metadata cut to \(length) bytes") { try WireCodec.decode(cut) }
        }

        var negative = Self.report
        negative.computeSeconds = -1
        let bad = WireMessage.cohort(CohortMessage(runID: "r", cohort: 0, content: .ready(negative)))
        #expect(throws: WireError.self) { try Self.decode(bad) }
    }
}
