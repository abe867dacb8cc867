import Foundation
import SextantStore
import Testing

extension IntegrationTests {
    @Suite("Subject-level privacy")
    struct SubjectLevelPrivacyTests {
        /// A tabular subject federation (`sextant-audit synth`) trained with `privacy.unit:
        /// subject` by the real server and clients: the stored subject-level ε is every
        /// silo's steps composed, as `sextant privacy epsilon --unit subject --silos 3`
        /// computes it, and each client's ledger file holds the steps its updates report.
        @Test("a subject-level run stores the composed epsilon and each client's ledger")
        func subjectLevelRun() async throws {
            for name in ["sextant-server", "sextant-client", "sextant-audit", "sextant"] {
                _ = try IntegrationEnvironment.executable(name)
            }
            let fixture = try FederationFixture(name: "subject-level")
            defer { fixture.tearDown() }
            let data = fixture.directory.appendingPathComponent("data")
            let synth = try fixture.start(
                "synth", executable: "sextant-audit",
                arguments: [
                    "synth", "--kind", "tabular", "--output", data.path, "--subjects", "40", "--clients", "3",
                    "--records-per-subject", "10", "--seed", "3",
                ])
            _ = try await synth.waitForExit(timeout: .seconds(60))
            try #require(synth.exitedSuccessfully, "\(fixture.diagnostics())")
            let base = fixture.configuration(name: "subject-level")
            let config = try fixture.write(
                """
                run: {name: subject-level, seed: 3}
                model: logreg
                data: {dataset: subject-federation, directory: \(data.path)}
                training: {learning_rate: 0.1, batch_size: 16, momentum: 0}
                scheduler: {kind: fedavg, min_clients: 3, local_steps: 5, weighting: equal}
                stop: {max_versions: 3}
                server: {bind: "\(base.bind)", database: "\(base.database)"}
                clients: {count: 3}
                privacy:
                  mode: record-level
                  unit: subject
                  delta: 1.0e-3
                  record_level: {clip_norm: 1.0, noise_multiplier: 1.5, sample_rate: 0.5}

                """)
            let server = try fixture.startServer(config: config)
            _ = try await fixture.waitForLogLine(server, containing: "serving", timeout: .seconds(60))
            let clients = try (0..<3).map { try fixture.startClient(config: config, index: $0) }
            let ended = try await server.waitForExit(timeout: .seconds(180))
            try #require(ended, "the server did not finish\n\(fixture.diagnostics())")
            #expect(server.exitedSuccessfully, "\(fixture.diagnostics())")
            for client in clients { _ = try await client.waitForExit(timeout: .seconds(30)) }

            let store = try fixture.openStore()
            let run = try #require(try store.latestRun())
            let last = try #require(try store.checkpointSummaries(run: run.id).last)
            #expect(last.version == 3)
            let stored = try #require(last.metrics["subject_epsilon"], "\(last.metrics)")
            #expect(last.metrics["record_epsilon"] == nil)
            // FedAvg gives every silo every round: 3 versions of 5 steps each.
            let updates = try store.updates(run: run.id)
            for index in 0..<3 {
                let steps = updates.filter { $0.client == "client-\(index)" }.reduce(0) { $0 + $1.steps }
                #expect(steps == 15)
                let ledger = URL(fileURLWithPath: base.database + ".ledgers/client-\(index).json")
                let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: ledger)) as? [String: Any]
                #expect(saved?["steps"] as? Int == steps, "\(saved ?? [:])")
                #expect(saved?["unit"] as? String == "subject")
            }
            let calculator = try fixture.start(
                "epsilon", executable: "sextant",
                arguments: [
                    "privacy", "epsilon", "--noise", "1.5", "--unit", "subject", "--silos", "3", "--sample-rate",
                    "0.5", "--steps", "15", "--delta", "1e-3",
                ])
            _ = try await calculator.waitForExit(timeout: .seconds(30))
            let line = try #require(calculator.standardOutput.split(separator: "\n").first)
            let expected = try #require(Double(line.split(separator: " ")[1]))
            #expect(abs(stored - expected) < 1e-6 * expected, "stored \(stored), sextant privacy epsilon \(expected)")
        }
    }
}
