import SextantWire

/// Frames as a peer would receive them, built without a socket (payloads copied).
func receivedFrames(_ frames: [OutboundFrame]) -> [ZMQFrame] {
    frames.map { frame in
        switch frame {
        case .bytes(let bytes): ZMQFrame(bytes: bytes)
        case .floats(let floats): ZMQFrame(bytes: floats.withUnsafeBytes { Array($0) })
        }
    }
}

/// The raw bytes of each frame.
func frameBytes(_ frames: [OutboundFrame]) -> [[UInt8]] {
    receivedFrames(frames).map(\.bytes)
}

/// One example of every message type, with small payloads.
let sampleMessages: [WireMessage] = [
    .join(
        JoinMessage(
            clientName: "silo-α", sampleCount: 60_000, modelFingerprint: "cnn-v1:abcd",
            lastModelVersion: 42, classHistogram: [6000, 5900, 0, 12])),
    .join(JoinMessage(clientName: "b", sampleCount: 0, modelFingerprint: "")),
    .assignment(
        AssignmentMessage(
            runID: "run-1", modelVersion: 7, localSteps: 50, learningRate: 0.05, batchSize: 32,
            clipNorm: 1.5, noiseMultiplier: 0.8, model: FloatPayload([1, -2, 3.5, 0, -0.0, 1e-30]))),
    .update(
        UpdateMessage(
            updateID: 9, baseVersion: 6, stepsDone: 50, computeSeconds: 7.25, sampleCount: 1000,
            trainLoss: 0.693, normBeforeClip: 2.5, clipped: true, delta: FloatPayload([0.5, -0.25, 8]))),
    .update(
        UpdateMessage(
            updateID: 10, baseVersion: 0, stepsDone: 0, computeSeconds: 0, sampleCount: 0,
            trainLoss: 0, normBeforeClip: 0, clipped: false, delta: FloatPayload([]))),
    .heartbeat(HeartbeatMessage(modelVersion: 3, state: .training)),
    .ack(AckMessage(updateID: 9, acceptedVersion: 8)),
    .error(ErrorReplyMessage(code: .nonFinite, text: "payload value 3 is nan")),
    .bye(ByeMessage(reason: .shutdown, text: "SIGTERM")),
    .uploadRequest(UploadRequestMessage(updateID: 11, baseVersion: 6)),
    .uploadGrant(UploadGrantMessage(modelVersion: 7)),
    .wait(WaitMessage(modelVersion: .max)),
    .evaluate(EvaluateMessage(runID: "run-1", modelVersion: 4, model: FloatPayload([0.5, 2]))),
    .evaluation(EvaluationMessage(modelVersion: 4, records: 12, lossSum: 3.5, summary: Array("{}".utf8))),
    .statistics(StatisticsMessage(clientName: "site-0", statistics: Array("{}".utf8))),
    .agreement(AgreementMessage(preprocessing: Array("{}".utf8))),
    .join(JoinMessage(clientName: "c", sampleCount: 5, modelFingerprint: "m", secureAggregation: true)),
]

/// SplitMix64: a tiny seeded generator so fuzz inputs are the same on every run.
struct SeededBytes: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Protocol error codes: what a decoder may throw (never a transport code).
let protocolCodes: Set<WireError.Code> = [
    .malformed, .unsupportedVersion, .unknownType, .wrongPayloadSize, .nonFinite, .normTooLarge,
]

/// Decodes raw frames and returns the error code, or nil if they decoded.
func decodeError(_ frames: [[UInt8]], options: WireDecodingOptions = WireDecodingOptions()) -> WireError? {
    do {
        _ = try WireCodec.decode(frames.map { ZMQFrame(bytes: $0) }, options: options)
        return nil
    } catch {
        return error
    }
}
