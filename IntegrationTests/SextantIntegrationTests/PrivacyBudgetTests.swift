import Foundation
import SextantStore
import Testing

extension IntegrationTests {
    @Suite("Privacy budgets")
    struct PrivacyBudgetTests {
        /// A record-level run with `target_epsilon` where a fast client would train far more
        /// steps than planned (FedBuff gives it up to K tasks per version, Compass about
        /// two): it trains to its budget, says goodbye with a clear line, the server drops it
        /// and the others finish the run; no checkpoint's record-level ε exceeds the target.
        @Test(
            "a fast client stops at its record-level budget and no stored epsilon exceeds the target",
            arguments: ["fedbuff", "compass"])
        func recordLevelBudgetHoldsUnderFastClients(scheduler: String) async throws {
            try IntegrationEnvironment.requireDataset()
            for name in ["sextant-server", "sextant-client"] { _ = try IntegrationEnvironment.executable(name) }
            let fixture = try FederationFixture(name: "budget-\(scheduler)")
            defer { fixture.tearDown() }
            var configuration = fixture.configuration(name: "budget-\(scheduler)")
            configuration.scheduler = scheduler
            configuration.model = "logreg"
            configuration.clientCount = 3
            configuration.minClients = 3
            configuration.trainingLimit = 3_000
            configuration.evaluationLimit = 500
            configuration.batchSize = 32
            configuration.localSteps = 10
            configuration.minLocalSteps = 10
            configuration.maxLocalSteps = 20
            configuration.bufferSize = 2
            configuration.maxVersions = 5
            let target = 3.0
            configuration.extraYAML = """
                privacy:
                  mode: record-level
                  record_level: {target_epsilon: \(target), batch_size: 32, delta: 1.0e-4, planned_steps: 60}

                """
            let config = try fixture.write(configuration.yaml)
            let server = try fixture.startServer(config: config)
            _ = try await fixture.waitForLogLine(server, containing: "serving", timeout: .seconds(60))
            let fast = try fixture.startClient(config: config, index: 0, timePerStep: 0)
            // Ten times slower than the fast client computes a DP-SGD step.
            let slow = try (1...2).map { try fixture.startClient(config: config, index: $0, timePerStep: 0.2) }

            let ended = try await server.waitForExit(timeout: .seconds(240))
            try #require(ended, "the server did not finish\n\(fixture.diagnostics())")
            #expect(server.exitedSuccessfully, "\(fixture.diagnostics())")
            for client in [fast] + slow { _ = try await client.waitForExit(timeout: .seconds(30)) }

            // The fast client stopped itself, said why, and exited 0; the server dropped it.
            let fastLog = fast.standardError + fast.standardOutput
            #expect(fastLog.contains("record-level privacy budget spent"), "\(fixture.diagnostics())")
            #expect(fastLog.contains("privacyBudgetSpent after"), "\(fixture.diagnostics())")
            #expect(fast.exitedSuccessfully, "\(fixture.diagnostics())")
            let serverLog = server.standardError + server.standardOutput
            #expect(serverLog.contains("client left: its privacy budget is spent"), "\(fixture.diagnostics())")

            // The run finished; every stored record-level ε is within the target.
            let store = try fixture.openStore()
            let run = try #require(try store.latestRun())
            #expect(run.status == .completed)
            let summaries = try store.checkpointSummaries(run: run.id)
            #expect(summaries.last?.version == configuration.maxVersions)
            let stored = summaries.compactMap { $0.metrics["record_epsilon"] }
            #expect(!stored.isEmpty)
            #expect(stored.allSatisfy { $0 <= target }, "stored record-level epsilons \(stored)")
            #expect(summaries.compactMap(\.epsilon).allSatisfy { $0 <= target })
            // The fast client trained past what the versions planned: its tasks outnumber the versions.
            let updates = try store.updates(run: run.id)
            let fastSteps = updates.filter { $0.client == "client-0" }.reduce(0) { $0 + $1.steps }
            #expect(fastSteps > 0 && fastSteps <= 60 + 20, "client-0 trained \(fastSteps) steps")
        }

        /// A client-level run whose events cost more than planned (Compass aggregates each
        /// client's first update alone, so client-side noise split into three shares carries a
        /// third of the planned variance) reaches its target ε before max_versions: the server
        /// refuses the event that would exceed it, stops with a clear line, and every stored ε
        /// is within the target.
        @Test("a client-level run that reaches its budget stops with a clear line")
        func clientLevelBudgetStopsTheRun() async throws {
            try IntegrationEnvironment.requireDataset()
            for name in ["sextant-server", "sextant-client"] { _ = try IntegrationEnvironment.executable(name) }
            let fixture = try FederationFixture(name: "budget-client-level")
            defer { fixture.tearDown() }
            var configuration = fixture.configuration(name: "budget-client-level")
            configuration.scheduler = "compass"
            configuration.model = "logreg"
            configuration.clientCount = 3
            configuration.minClients = 3
            configuration.trainingLimit = 3_000
            configuration.evaluationLimit = 500
            configuration.minLocalSteps = 10
            configuration.maxLocalSteps = 20
            configuration.weighting = "equal"
            configuration.maxVersions = 10
            let target = 3.0
            configuration.extraYAML = """
                privacy:
                  mode: client-level
                  target_epsilon: \(target)
                  delta: 1.0e-2
                  noise_placement: client
                  client_noise_without_secure_aggregation: true

                """
            let config = try fixture.write(configuration.yaml)
            let server = try fixture.startServer(config: config)
            _ = try await fixture.waitForLogLine(server, containing: "serving", timeout: .seconds(60))
            let clients = try (0..<3).map { try fixture.startClient(config: config, index: $0, timePerStep: 0.005) }
            let ended = try await server.waitForExit(timeout: .seconds(180))
            try #require(ended, "the server did not finish\n\(fixture.diagnostics())")
            #expect(server.exitedSuccessfully, "\(fixture.diagnostics())")
            for client in clients { _ = try await client.waitForExit(timeout: .seconds(30)) }

            let serverLog = server.standardError + server.standardOutput
            let line = try #require(
                LogLines.first(in: serverLog, containing: "client-level privacy budget reached"),
                "no budget line\n\(fixture.diagnostics())")
            #expect(line.contains("privacy.target_epsilon \(target)"))
            #expect(line.contains("client-level, zero-out adjacency, participation public, delta=0.01"))
            let store = try fixture.openStore()
            let run = try #require(try store.latestRun())
            let summaries = try store.checkpointSummaries(run: run.id)
            let last = try #require(summaries.last)
            #expect(last.version < configuration.maxVersions, "the budget never stopped the run")
            let stored = summaries.compactMap(\.epsilon)
            #expect(!stored.isEmpty && stored.allSatisfy { $0 <= target }, "stored client-level epsilons \(stored)")
        }
    }
}
