import Foundation
import SextantWire

// Writes the seed corpus: a valid encoding of each message type (and of each value of its
// enums) in the fuzz target's frame format. Run `swift run WireFuzzSeeds` in FuzzTesting/
// and commit Corpus/seed/; WireFuzzCorpusTests checks that every seed decodes.

let model: FloatPayload = [0.25, -1.5, 3, 0, -0.0, 1e-30, 7.75, -2]
let zeros = FloatPayload([Float](repeating: 0, count: FuzzFrames.parameterCount))

let seeds: [(name: String, message: WireMessage)] = [
    (
        "join-full",
        .join(
            JoinMessage(
                clientName: "silo-α", sampleCount: 60_000, modelFingerprint: "cnn-v1:abcd",
                lastModelVersion: 42, classHistogram: [6000, 5900, 0, 12], secureAggregation: true))
    ),
    ("join-minimal", .join(JoinMessage(clientName: "b", sampleCount: 0, modelFingerprint: ""))),
    (
        "assignment-dp",
        .assignment(
            AssignmentMessage(
                runID: "run-1", modelVersion: 7, localSteps: 50, learningRate: 0.05, batchSize: 32,
                clipNorm: 1.5, noiseMultiplier: 0.8, model: model))
    ),
    (
        "assignment-plain",
        .assignment(
            AssignmentMessage(
                runID: "", modelVersion: 0, localSteps: 1, learningRate: 0, batchSize: 1, model: zeros))
    ),
    (
        "update-clipped",
        .update(
            UpdateMessage(
                updateID: 9, baseVersion: 6, stepsDone: 50, computeSeconds: 7.25, sampleCount: 1000,
                trainLoss: 0.693, normBeforeClip: 2.5, clipped: true, delta: model))
    ),
    (
        "update-zero",
        .update(
            UpdateMessage(
                updateID: 0, baseVersion: 0, stepsDone: 0, computeSeconds: 0, sampleCount: 0,
                trainLoss: -1, normBeforeClip: 0, clipped: false, delta: zeros))
    ),
    ("heartbeat-idle", .heartbeat(HeartbeatMessage(modelVersion: 0, state: .idle))),
    ("heartbeat-training", .heartbeat(HeartbeatMessage(modelVersion: 3, state: .training))),
    ("upload-request", .uploadRequest(UploadRequestMessage(updateID: 9, baseVersion: 6))),
    ("upload-grant", .uploadGrant(UploadGrantMessage(modelVersion: .max))),
    ("wait", .wait(WaitMessage(modelVersion: 3))),
    ("ack", .ack(AckMessage(updateID: 9, acceptedVersion: 8))),
    ("error-malformed", .error(ErrorReplyMessage(code: .malformed, text: "metadata truncated"))),
    ("error-norm", .error(ErrorReplyMessage(code: .normTooLarge, text: "payload L2 norm 1e9 exceeds 100"))),
    ("error-internal", .error(ErrorReplyMessage(code: .internal, text: ""))),
    ("bye-done", .bye(ByeMessage(reason: .done))),
    ("bye-shutdown", .bye(ByeMessage(reason: .shutdown, text: "SIGTERM"))),
    ("bye-rejected", .bye(ByeMessage(reason: .rejected, text: "fingerprint differs"))),
    ("evaluate", .evaluate(EvaluateMessage(runID: "run-1", modelVersion: 12, model: model))),
    ("evaluate-assigned", .evaluate(EvaluateMessage(runID: "run-1", modelVersion: 12, model: FloatPayload([])))),
    (
        "evaluation-summary",
        .evaluation(
            EvaluationMessage(
                modelVersion: 12, records: 4, lossSum: 2.5,
                summary: Array(#"{"classification":{"_0":{"classes":2,"counts":[2,0,1,1]}}}"#.utf8)))
    ),
    ("evaluation-empty", .evaluation(EvaluationMessage(modelVersion: 0, records: 0, lossSum: 0, summary: []))),
    (
        "statistics",
        .statistics(
            StatisticsMessage(clientName: "site-0", statistics: Array(#"{"recordCount":3,"columns":[]}"#.utf8)))
    ),
    ("agreement", .agreement(AgreementMessage(preprocessing: Array(#"{"columns":[]}"#.utf8)))),
    (
        "cohort-invitation",
        .cohort(
            CohortMessage(
                runID: "run-1", cohort: 7 << 32 | 3,
                content: .invitation(
                    .init(
                        member: 2, members: 4, threshold: 3, bits: 32, clipNorm: 10, maxMembers: 4, weight: 0.25,
                        baseVersion: 7))))
    ),
    (
        "cohort-step",
        .cohort(CohortMessage(runID: "run-1", cohort: 9, content: .step(body: [0x53, 0x41, 1, 0, 9], report: nil)))
    ),
    (
        "cohort-masked-input",
        .cohort(
            CohortMessage(
                runID: "run-1", cohort: 9,
                content: .step(
                    body: [0x53, 0x41, 1, 4] + [UInt8](repeating: 0xA5, count: 4 * FuzzFrames.parameterCount),
                    report: .init(updateID: 9, baseVersion: 6, stepsDone: 50, computeSeconds: 7.25, sampleCount: 1000)))
        )
    ),
    (
        "cohort-ready",
        .cohort(
            CohortMessage(
                runID: "run-1", cohort: 0,
                content: .ready(
                    .init(updateID: 10, baseVersion: 6, stepsDone: 40, computeSeconds: 3.5, sampleCount: 1000))))
    ),
]

let directory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Corpus/seed")
let files = FileManager.default
try files.createDirectory(at: directory, withIntermediateDirectories: true)
for stale in try files.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil) {
    try files.removeItem(at: stale)
}
for seed in seeds {
    guard let bytes = FuzzFrames.join(FuzzFrames.frames(of: seed.message)) else {
        fatalError("\(seed.name) has a frame too long for the fuzz frame format")
    }
    try Data(bytes).write(to: directory.appendingPathComponent(seed.name))
}
print("wrote \(seeds.count) seeds to \(directory.path)")
