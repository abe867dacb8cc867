import Foundation
import Logging
import SextantClient
import SextantML
import SextantPrivacy
import SextantRuntime
import SextantWire
import Testing

/// A client under record-level DP with a target epsilon, restarted in the middle of a run:
/// the steps its records were used in before the restart still count. It used to start
/// again from zero, so a restarted client trained past its budget and reported an epsilon
/// below the one spent.
@Suite("FederationClient's record-level ledger across a restart", .timeLimit(.minutes(1)))
struct FederationClientLedgerTests {
    /// z = 1, q = 4/8, δ = 1e-3; the target lies halfway between ε after 8 and after 9
    /// steps, so the budget is 8 steps: 5 before the restart leave 3.
    @Test("a restarted client trains only what is left of its budget")
    func restartKeepsTheStepCount() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sextant-ledger-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let eight = try RDPAccountant.epsilon(noiseMultiplier: 1, sampleRate: 0.5, steps: 8, delta: 1e-3).epsilon
        let nine = try RDPAccountant.epsilon(noiseMultiplier: 1, sampleRate: 0.5, steps: 9, delta: 1e-3).epsilon
        let plan = PrivacySection.RecordLevelPlan(
            clipNorm: 1, noiseMultiplier: 1, expectedBatchSize: 4, sampleRate: 0.5, delta: 1e-3, plannedSteps: 8,
            targetEpsilon: (eight + nine) / 2)
        #expect(try plan.stepBudget() == 8)

        let first = try await stepsOfUpdate(plan: plan, ledger: directory.appendingPathComponent("site.json"))
        #expect(first == 5)
        let second = try await stepsOfUpdate(plan: plan, ledger: directory.appendingPathComponent("site.json"))
        #expect(second == 3, "the restarted client trained \(second ?? -1) steps; 3 were left of the budget of 8")
    }

    /// Starts a client, assigns it 5 steps, grants its upload and returns the steps its
    /// update reports; the client is stopped once the update has arrived.
    private func stepsOfUpdate(plan: PrivacySection.RecordLevelPlan, ledger: URL) async throws -> Int? {
        let logger = Logger(label: "sextant.tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let server = try await ClientTestServer.makeRouter()
        var inbox = server.messages.makeAsyncIterator()
        let shape = FeatureShape(channels: 4)
        let data = ClientTestServer.data
        let parameterCount = ModelArchitecture.logreg.makeNetwork(input: shape, classCount: 2, seed: 1).parameterCount
        var settings = FederationClient.Settings(
            server: try #require(server.boundEndpoints.first), name: "site", model: ModelArchitecture.logreg.spec,
            momentum: 0, weightDecay: 0, speed: SpeedModel(meanTimePerStep: 0, distribution: .fixed, seed: 1), seed: 1)
        settings.recordLevel = plan
        settings.privacyLedger = ledger
        settings.runName = "ledger-test"
        let client = settings
        let stop = StopFlag()
        let steps: Int? = try await withThrowingTaskGroup(of: Int?.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    Thread {
                        _ = try? FederationClient(settings: client, data: data, stop: stop, logger: logger).run()
                        continuation.resume(returning: nil)
                    }.start()
                }
            }
            let watchdog = Task {
                try await Task.sleep(for: .seconds(20))
                stop.raise()
            }
            defer { watchdog.cancel() }
            var steps: Int?
            while steps == nil, let frames = await inbox.next() {
                let peer: [OutboundFrame] = [.bytes(frames[0].bytes)]
                switch try WireCodec.decode(frames.dropFirst()) {
                case .join:
                    let assignment = AssignmentMessage(
                        runID: "ledger-test", modelVersion: 0, localSteps: 5, learningRate: 0.1, batchSize: 4,
                        model: FloatPayload([Float](repeating: 0, count: parameterCount)))
                    try await server.send(peer + WireCodec.encode(.assignment(assignment)))
                case .uploadRequest(let request):
                    try await server.send(
                        peer + WireCodec.encode(.uploadGrant(UploadGrantMessage(modelVersion: request.baseVersion))))
                case .update(let update):
                    steps = Int(update.stepsDone)
                default:
                    break
                }
            }
            stop.raise()
            _ = try await group.next()
            return steps
        }
        await server.shutdown()
        return steps
    }
}
