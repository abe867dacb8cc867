import Foundation
import SextantAggregation
import SextantBase
import SextantPrivacy
import SextantScheduling
import SextantWire
import Testing

@testable import SextantClient
@testable import SextantRuntime

/// A target ε is a limit: a client stops DP-SGD before its record-level budget is spent and
/// says so; the server refuses the aggregation that would spend more than the client-level
/// budget and stops the run.
@Suite struct PrivacyBudgetTests {
    // MARK: - Record level, in the client

    /// The step budget is the largest T with ε(T) <= target: one more step exceeds it, and
    /// it is at least the planned steps z was calibrated for. Checked against ε computed
    /// directly for T and T + 1 steps.
    @Test func theStepBudgetIsTheLastStepWithinTheTarget() throws {
        let configuration = try decodeConfiguration(
            """
            clients: {count: 4}
            scheduler: {kind: fedbuff, buffer_size: 2, local_steps: 10}
            stop: {max_versions: 5}
            privacy:
              mode: record-level
              record_level: {target_epsilon: 2.0, batch_size: 20, delta: 1.0e-4}
            """)
        let plan = try configuration.privacy.recordLevelPlan(federation: configuration, records: 500)
        #expect(plan.targetEpsilon == 2.0)
        let budget = try #require(try plan.stepBudget())
        #expect(budget >= plan.plannedSteps)
        let atBudget = try RDPAccountant.epsilon(
            noiseMultiplier: plan.noiseMultiplier, sampleRate: plan.sampleRate, steps: budget, delta: 1e-4)
        let beyond = try RDPAccountant.epsilon(
            noiseMultiplier: plan.noiseMultiplier, sampleRate: plan.sampleRate, steps: budget + 1, delta: 1e-4)
        #expect(atBudget.epsilon <= 2.0)
        #expect(beyond.epsilon > 2.0)
    }

    /// With a given noise multiplier there is no target and no limit.
    @Test func aGivenNoiseMultiplierSetsNoLimit() throws {
        let configuration = try decodeConfiguration(
            """
            clients: {count: 4}
            privacy:
              mode: record-level
              record_level: {noise_multiplier: 1.0, batch_size: 20, delta: 1.0e-4}
            """)
        let plan = try configuration.privacy.recordLevelPlan(federation: configuration, records: 500)
        #expect(try plan.stepBudget() == nil)
    }

    static func session() -> ClientSession {
        var session = ClientSession(
            configuration: .init(
                join: JoinMessage(clientName: "c1", sampleCount: 10, modelFingerprint: "logreg:4:2"),
                heartbeatInterval: 2, ackTimeout: 15, server: "tcp://server:5555", curvePublicKey: nil))
        _ = session.handle(.tick, now: 0)
        _ = session.handle(.received(.wait(WaitMessage(modelVersion: 0))), now: 0.1)
        return session
    }

    static func goodbyes(_ actions: [ClientSession.Action]) -> [ByeMessage] {
        actions.compactMap { if case .send(.bye(let bye)) = $0 { bye } else { nil } }
    }

    /// A spent budget with nothing unacknowledged: goodbye at once, with the reason.
    @Test func aClientWithNothingPendingLeavesAtOnce() {
        var session = Self.session()
        let actions = session.handle(.privacyBudgetSpent("record-level privacy budget spent"), now: 1)
        #expect(
            Self.goodbyes(actions) == [
                ByeMessage(reason: .privacyBudgetSpent, text: "record-level privacy budget spent")
            ])
        #expect(actions.contains(.finish(.privacyBudgetSpent)))
        #expect(session.isOver)
    }

    /// The last update is delivered first: the goodbye follows its ack.
    @Test func theLastUpdateIsAcknowledgedBeforeTheGoodbye() {
        var session = Self.session()
        let assignment = AssignmentMessage(
            runID: "r", modelVersion: 0, localSteps: 10, learningRate: 0.1, batchSize: 4, model: FloatPayload([0, 0]))
        _ = session.handle(.received(.assignment(assignment)), now: 0.2)
        let update = UpdateMessage(
            updateID: 7, baseVersion: 0, stepsDone: 10, computeSeconds: 1, sampleCount: 10, trainLoss: 0,
            normBeforeClip: 0, clipped: false, delta: FloatPayload([0.5, -0.5]))
        _ = session.handle(.trained(task: 1, update), now: 1)
        let spent = session.handle(.privacyBudgetSpent("spent"), now: 1.5)
        #expect(Self.goodbyes(spent).isEmpty)
        #expect(!session.isOver)
        let acknowledged = session.handle(.received(.ack(AckMessage(updateID: 7, acceptedVersion: 0))), now: 2)
        #expect(Self.goodbyes(acknowledged) == [ByeMessage(reason: .privacyBudgetSpent, text: "spent")])
        #expect(session.isOver)
    }

    // MARK: - Client level, in the server

    static func contributions(_ clients: Int, coefficient: Double) -> [ClientLevelPrivacy.Contribution] {
        (0..<clients).map { .init(client: "c\($0)", coefficient: coefficient, clipNorm: 1, unclipped: true) }
    }

    /// z calibrated to ε = 2 over 10 events: exactly 10 events fit, and the 11th is refused
    /// before any noise is drawn, with ε unchanged.
    @Test func theEventBeyondTheBudgetIsRefused() throws {
        let configuration = try decodeConfiguration(
            """
            clients: {count: 20}
            scheduler: {kind: fedbuff, buffer_size: 4, weighting: equal}
            stop: {max_versions: 10}
            privacy: {mode: client-level, target_epsilon: 2.0, delta: 1.0e-3}
            """)
        var privacy = try ClientLevelPrivacy(
            configuration: configuration.privacy.makeClientLevelConfiguration(federation: configuration))
        #expect(privacy.configuration.epsilonBudget == 2.0)
        var generator = SeededGenerator(seed: 1)
        var noise = [Float](repeating: 0, count: 2)
        for version in 1...10 {
            _ = try noise.withUnsafeMutableBufferPointer {
                try privacy.finishEvent(
                    newVersion: version, contributions: Self.contributions(4, coefficient: 0.25), noise: $0,
                    using: &generator)
            }
        }
        let spent = privacy.epsilon
        #expect(spent <= 2.0 * (1 + 1e-9))
        #expect(throws: PrivacyError.self) {
            try noise.withUnsafeMutableBufferPointer {
                try privacy.finishEvent(
                    newVersion: 11, contributions: Self.contributions(4, coefficient: 0.25), noise: $0,
                    using: &generator)
            }
        }
        #expect(privacy.epsilon == spent)
        #expect(privacy.events == 10)
    }

    /// Client-side noise split into n = 4 shares when only one client arrives: each such
    /// event carries half the planned noise and costs more, so the budget stops the run
    /// before max_versions, and ε never passes the target.
    @Test func fewerArrivalsThanPlannedStopEarlyWithinTheBudget() throws {
        let configuration = try decodeConfiguration(
            """
            clients: {count: 20}
            scheduler: {kind: fedbuff, buffer_size: 4, weighting: equal}
            stop: {max_versions: 10}
            privacy:
              mode: client-level
              target_epsilon: 2.0
              delta: 1.0e-3
              noise_placement: client
              client_noise_without_secure_aggregation: true
            """)
        var privacy = try ClientLevelPrivacy(
            configuration: configuration.privacy.makeClientLevelConfiguration(federation: configuration))
        var generator = SeededGenerator(seed: 1)
        var noise = [Float](repeating: 0, count: 2)
        var released = 0
        for version in 1...10 {
            do {
                _ = try noise.withUnsafeMutableBufferPointer {
                    try privacy.finishEvent(
                        newVersion: version, contributions: Self.contributions(1, coefficient: 1), noise: $0,
                        using: &generator)
                }
                released += 1
            } catch let error as PrivacyError {
                #expect(error.code == .budgetSpent)
                break
            }
        }
        #expect(released < 10)
        #expect(released > 0)
        #expect(privacy.epsilon <= 2.0 * (1 + 1e-9))
    }

    /// In the aggregation core the refused event leaves the model's version where it was,
    /// so the run stops on the last released version.
    @Test func theCoreKeepsTheVersionOfTheLastReleasedModel() throws {
        let privacy = try ClientLevelPrivacy(
            configuration: .init(
                noiseMultiplier: 1, clipping: .fixed(1), delta: 1e-3, expectedClientsPerEvent: 1,
                epsilonBudget: 5))
        let scheduler = FedAsyncScheduler(
            configuration: .init(minimumClients: 1, localSteps: 2, weighting: .equal))
        var core = AggregationCore(scheduler: scheduler, model: [0, 0], privacy: privacy)
        _ = try core.clientJoined("a", samples: 10, now: 0)
        var refused: CoreError?
        for id in 1...100 {
            let update = UpdateInfo(
                id: Int64(id), client: "a", baseVersion: core.version, steps: 2, samples: 10)
            do {
                _ = try core.updateArrived(update, delta: [Float(0.5), 0.5], now: Double(id))
            } catch {
                refused = error
                break
            }
        }
        let error = try #require(refused)
        #expect(error.code == .budgetSpent)
        #expect(core.version == core.privacy?.events)
        #expect((core.privacy?.epsilon ?? .infinity) <= 5)
        print(error.message)
    }
}
