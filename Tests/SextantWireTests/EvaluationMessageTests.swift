import Testing

@testable import SextantWire

/// Federated evaluation's two messages: the request carries the model as a payload, the
/// report a bounded summary.
@Suite("Evaluation messages")
struct EvaluationMessageTests {
    @Test("evaluate and evaluation round-trip with type bytes 11 and 12")
    func roundTrip() throws {
        let request = WireMessage.evaluate(EvaluateMessage(runID: "r", modelVersion: 7, model: [1, -2, 0.5]))
        let report = WireMessage.evaluation(
            EvaluationMessage(modelVersion: 7, records: 40, lossSum: 12.5, summary: Array("{}".utf8)))
        for (message, type) in [(request, UInt8(11)), (report, UInt8(12))] {
            let frames = receivedFrames(WireCodec.encode(message))
            #expect(frames[0].bytes[6] == type)
            let decoded = try WireCodec.decode(frames, options: WireDecodingOptions(expectedPayloadCount: 3))
            #expect(decoded == message)
        }
        #expect(WireMessageType.evaluate.hasPayload && !WireMessageType.evaluation.hasPayload)
    }

    @Test("an evaluate without a model refers to the assignment's; no other message may drop its model")
    func evaluateByReference() throws {
        let byReference = WireMessage.evaluate(EvaluateMessage(runID: "r", modelVersion: 7, model: FloatPayload([])))
        let decoded = try WireCodec.decode(
            receivedFrames(WireCodec.encode(byReference)), options: WireDecodingOptions(expectedPayloadCount: 3))
        guard case .evaluate(let request) = decoded else {
            Issue.record("decoded as \(decoded.type)")
            return
        }
        #expect(request.refersToAssignment && request.modelVersion == 7)
        let emptyAssignment = WireMessage.assignment(
            AssignmentMessage(
                runID: "r", modelVersion: 7, localSteps: 1, learningRate: 0.1, batchSize: 1, model: FloatPayload([])))
        #expect {
            _ = try WireCodec.decode(
                receivedFrames(WireCodec.encode(emptyAssignment)), options: WireDecodingOptions(expectedPayloadCount: 3)
            )
        } throws: { ($0 as? WireError)?.code == .wrongPayloadSize }
    }

    @Test("an oversized summary or a negative loss is refused as malformed")
    func refusals() throws {
        let big = WireMessage.evaluation(
            EvaluationMessage(
                modelVersion: 1, records: 1, lossSum: 0,
                summary: [UInt8](repeating: 32, count: EvaluationMessage.maxSummaryBytes + 1)))
        let negative = WireMessage.evaluation(
            EvaluationMessage(modelVersion: 1, records: 1, lossSum: -1, summary: []))
        for message in [big, negative] {
            let frames = receivedFrames(WireCodec.encode(message))
            #expect(throws: WireError.self) { _ = try WireCodec.decode(frames, options: WireDecodingOptions()) }
        }
    }
}
