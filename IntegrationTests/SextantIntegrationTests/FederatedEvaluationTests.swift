import Foundation
import SextantStore
import SextantWire
import Testing

extension IntegrationTests {
    @Suite("Federated evaluation")
    struct FederatedEvaluationTests {
        /// Three sites hold out 20% of their records; after every aggregation the server asks
        /// each to evaluate the new model, merges their summaries, stores them with the
        /// checkpoint, and stops once the merged accuracy reaches the target. A peer's
        /// evaluation that nobody asked for is refused.
        @Test("the sites' merged validation accuracy is stored per version and stops the run at its target")
        func evaluationStopsTheRun() async throws {
            try IntegrationEnvironment.requireDataset()
            let fixture = try FederationFixture(name: "fedeval")
            defer { fixture.tearDown() }
            var configuration = fixture.configuration(name: "fedeval")
            configuration.clientCount = 3
            configuration.minClients = 3
            configuration.trainingLimit = 9_000
            configuration.maxVersions = 40  // a safety cap: reaching it means the target was missed
            configuration.targetMetric = "accuracy"
            configuration.targetValue = 0.75
            configuration.validationFraction = 0.2
            let config = try fixture.write(configuration.yaml)
            let server = try fixture.startServer(config: config)
            let serving = try await fixture.waitForLogLine(server, containing: "serving", timeout: .seconds(60))
            let fingerprint = try #require(
                serving.flatMap { LogLines.value(of: "model", in: $0) }, "no serving line\n\(fixture.diagnostics())")
            let clients = try (0..<configuration.clientCount).map {
                try fixture.startClient(config: config, index: $0, timePerStep: 0)
            }

            // An evaluation nobody asked for is a claim the server refuses.
            let join = Probe(
                name: "join",
                frames: WireCodec.encode(
                    .join(JoinMessage(clientName: "stranger", sampleCount: 10, modelFingerprint: fingerprint))),
                expectation: .admitted)
            let unsolicited = Probe(
                name: "unsolicited evaluation",
                frames: WireCodec.encode(
                    .evaluation(
                        EvaluationMessage(
                            modelVersion: 999, records: 5, lossSum: 0,
                            summary: Array(#"{"classification":{"_0":{"classes":10,"counts":[]}}}"#.utf8)))),
                expectation: .error(.unsolicited))
            let outcomes = try await ProbeSession.run(
                [join, unsolicited], endpoint: fixture.endpoint, routingID: "stranger")
            #expect(outcomes.last?.errorCode == .unsolicited, "\(outcomes.map(\.summary))")

            try await fixture.expectEveryProcessFinished(server: server, clients: clients)
            let log = server.standardError
            #expect(log.contains("reached the target metric"), "\(server.tail())")
            let lines = log.split(separator: "\n").filter { $0.contains("federated evaluation") }
            #expect(!lines.isEmpty, "\(server.tail())")

            // Every evaluated checkpoint holds the merged figures: 3 sites, 20% of 3 000 records each.
            let store = try fixture.openStore()
            let run = try #require(try store.latestRun())
            #expect(run.status == .completed)
            let evaluated = try store.checkpointSummaries(run: run.id).filter {
                $0.metrics["federated_accuracy"] != nil
            }
            let last = try #require(evaluated.last, "no checkpoint holds a federated evaluation")
            #expect(last.metrics["federated_accuracy"]! >= 0.75)
            #expect(last.metrics["federated_sites"] == 3)
            #expect(last.metrics["federated_records"] == 1_800)
            for name in ["federated_balanced_accuracy", "federated_macro_f1", "federated_loss"] {
                #expect(last.metrics[name] != nil, "\(name) missing in \(last.metrics)")
            }
            #expect(last.version < configuration.maxVersions, "stopped at the safety cap, not the target")
            let clientLog = clients[0].standardError
            #expect(clientLog.contains("evaluated"), "\(clients[0].tail())")
        }
    }
}
