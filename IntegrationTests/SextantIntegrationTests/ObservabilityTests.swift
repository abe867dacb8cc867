import Foundation
import SextantStore
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension IntegrationTests {
    @Suite("Observability")
    struct ObservabilityTests {
        /// A small federation (2 clients, 6 FedAvg rounds) with `server.metrics_bind` set:
        /// /metrics is scraped while it trains and after the last aggregation, read by the
        /// Prometheus reference parser, and its counters are checked against the checkpoint
        /// database; /status and `sextant status` are checked against it too.
        @Test("/metrics, /status and sextant status agree with the checkpoint database")
        func metricsAndStatusMatchTheDatabase() async throws {
            try IntegrationEnvironment.requireDataset()
            for name in ["sextant", "sextant-server", "sextant-client"] {
                _ = try IntegrationEnvironment.executable(name)
            }
            let fixture = try FederationFixture(name: "observability")
            defer { fixture.tearDown() }
            var metricsPort = try FederationFixture.freeLoopbackPort()
            while metricsPort == fixture.port { metricsPort = try FederationFixture.freeLoopbackPort() }
            let base = "http://127.0.0.1:\(metricsPort)"
            var configuration = fixture.configuration(name: "observability")
            configuration.clientCount = 2
            configuration.minClients = 2
            configuration.trainingLimit = 4_000
            configuration.evaluationLimit = 500
            configuration.localSteps = 10
            configuration.maxVersions = 6
            // Federated evaluation on: what the server sends per round includes its requests.
            configuration.validationFraction = 0.2
            configuration.metricsBind = "127.0.0.1:\(metricsPort)"
            let config = try fixture.write(configuration.yaml)

            // --linger keeps the endpoint up after the run for the final scrape; SIGTERM ends it.
            let server = try fixture.start(
                "server", executable: "sextant-server", arguments: ["--config", config.path, "--linger", "30"])
            let listening = try await fixture.waitForLogLine(
                server, containing: "serving /metrics", timeout: .seconds(20))
            try #require(listening != nil, "the metrics endpoint did not start\n\(fixture.diagnostics())")
            for index in 0..<configuration.clientCount {
                _ = try fixture.startClient(config: config, index: index)
            }

            // While it trains: the text parses, and counters never go down.
            var scrapesWhileRunning = 0
            var lastAggregations = 0.0
            var status: [String: Any] = [:]
            let deadline = ContinuousClock.now + .seconds(90)
            while ContinuousClock.now < deadline {
                // 503 until the server has loaded its data and opened the database.
                guard let current = try await Self.status(from: base) else {
                    try await Task.sleep(for: .milliseconds(100))
                    continue
                }
                status = current
                if status["status"] as? String != "running" { break }
                let scrape = try PrometheusScrape.parse(try await Self.text(from: "\(base)/metrics"))
                let aggregations = try #require(scrape.value("sextant_aggregations_total"))
                #expect(aggregations >= lastAggregations)
                lastAggregations = aggregations
                scrapesWhileRunning += 1
                try await Task.sleep(for: .milliseconds(200))
            }
            try #require(status["status"] as? String == "completed", "status: \(status)\n\(fixture.diagnostics())")
            #expect(scrapesWhileRunning > 0, "the run ended before a scrape while it trained")

            // After the last aggregation the server handles no more messages: counters are final.
            let scrape = try PrometheusScrape.parse(try await Self.text(from: "\(base)/metrics"))
            let store = try fixture.openStore()
            let run = try #require(try store.latestRun())
            let versions = try store.checkpointVersions(run: run.id)
            let updates = try store.updates(run: run.id)
            let applied = updates.filter { $0.state == .applied }
            let finalVersion = try #require(versions.last)
            #expect(finalVersion == configuration.maxVersions)
            // Checkpoint 0 is the initial model; every other one is an aggregation.
            #expect(scrape.value("sextant_aggregations_total") == Double(versions.count - 1))
            #expect(scrape.value("sextant_model_version") == Double(finalVersion))
            #expect(scrape.value("sextant_updates_received_total") == Double(updates.count))
            #expect(scrape.value("sextant_update_staleness_count") == Double(applied.count))
            #expect(
                scrape.value("sextant_update_staleness_sum") == Double(applied.compactMap(\.staleness).reduce(0, +)))
            #expect(scrape.value("sextant_arrival_group_size_count") == Double(versions.count - 1))
            #expect(scrape.value("sextant_arrival_group_size_sum") == Double(applied.count))
            #expect(scrape.value("sextant_aggregation_duration_seconds_count") == Double(versions.count - 1))
            #expect(scrape.value("sextant_connected_clients") == Double(configuration.clientCount))
            let lastAccuracy = try #require(try store.checkpointSummaries(run: run.id).last?.accuracy)
            #expect(abs((scrape.value("sextant_accuracy") ?? -1) - lastAccuracy) < 1e-12)
            // Every update carried a whole model delta (4 bytes a parameter), every assignment a model.
            let deltaBytes = Double(run.parameterCount * 4)
            #expect((scrape.value("sextant_received_bytes_total") ?? 0) > deltaBytes * Double(updates.count))
            #expect((scrape.value("sextant_sent_bytes_total") ?? 0) > deltaBytes * Double(updates.count))
            // With federated evaluation a site gets each model once: the request to evaluate a
            // version it was just assigned carries none (protocol 4); only the last version's
            // requests, which no assignment precedes, do. Before, every request carried it
            // (twice the models).
            let evaluated = try store.checkpointSummaries(run: run.id).filter { $0.metrics["federated_records"] != nil }
            #expect(!evaluated.isEmpty, "no federated evaluation in this run")
            #expect(
                (scrape.value("sextant_sent_bytes_total") ?? 0)
                    < deltaBytes * Double(updates.count + configuration.clientCount + 2))
            #expect(scrape.family("sextant_aggregations")?.type == "counter")
            #expect(scrape.family("sextant_update_staleness")?.type == "histogram")
            #expect(scrape.family("sextant_connected_clients")?.type == "gauge")
            #expect(scrape.families.allSatisfy { $0.name.hasPrefix("sextant_") })
            #expect(scrape.family("sextant_epsilon") == nil, "a run without differential privacy has no epsilon")

            // /status: the same run, from the server's side.
            #expect(status["run_id"] as? String == run.id)
            #expect(status["model_version"] as? Int == finalVersion)
            #expect(status["scheduler"] as? String == "fedavg")
            #expect(status["epsilon"] is NSNull)
            #expect(abs((status["accuracy"] as? Double ?? -1) - lastAccuracy) < 1e-12)
            #expect((status["uptime_seconds"] as? Double ?? 0) > 0)
            let clients = try #require(status["clients"] as? [[String: Any]])
            #expect(clients.compactMap { $0["name"] as? String } == ["client-0", "client-1"])
            for client in clients {
                #expect((client["samples"] as? Int ?? 0) > 0)
                #expect(client["peer"] is String)
                #expect(client["last_seen"] is String)
                #expect(client["assigned_steps"] as? Int == configuration.localSteps)
                #expect(client["arrival_group"] is NSNull, "FedAvg has no arrival groups")
            }

            // sextant status, as an operator runs it.
            let statusJSON = try fixture.start(
                "status-json", executable: "sextant", arguments: ["status", "--json", "--server", base])
            try await statusJSON.waitForExit(timeout: .seconds(20))
            #expect(statusJSON.exitedSuccessfully, "\(statusJSON.tail())")
            let printed = try JSONSerialization.jsonObject(with: Data(statusJSON.standardOutput.utf8)) as? [String: Any]
            #expect(printed?["run_id"] as? String == run.id)
            let statusText = try fixture.start(
                "status-text", executable: "sextant", arguments: ["status", "--server", base])
            try await statusText.waitForExit(timeout: .seconds(20))
            #expect(statusText.exitedSuccessfully, "\(statusText.tail())")
            #expect(statusText.standardOutput.contains("run \(run.id)  completed  version \(finalVersion)/"))
            #expect(statusText.standardOutput.contains("client-1"))

            // SIGTERM ends the lingering; the run's outcome is unchanged.
            server.send(SIGTERM)
            #expect(try await server.waitForExit(timeout: .seconds(10)), "the server did not end its linger on SIGTERM")
            #expect(server.exitedSuccessfully, "\(server.tail())")
            #expect(try store.latestRun()?.status == .completed)

            // Nothing listens there now: a clear error, not a hang.
            let refused = try fixture.start(
                "status-refused", executable: "sextant", arguments: ["status", "--server", base])
            try await refused.waitForExit(timeout: .seconds(20))
            #expect(!refused.exitedSuccessfully)
            #expect(refused.standardError.contains("nothing answers at \(base)"), "\(refused.tail())")
        }

        static func text(from url: String) async throws -> String {
            let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
            try #require((response as? HTTPURLResponse)?.statusCode == 200, "GET \(url): \(response)")
            return String(decoding: data, as: UTF8.self)
        }

        /// The /status document, or nil while the server answers 503 (starting).
        static func status(from base: String) async throws -> [String: Any]? {
            let (data, response) = try await URLSession.shared.data(from: URL(string: "\(base)/status")!)
            let code = (response as? HTTPURLResponse)?.statusCode
            if code == 503 { return nil }
            try #require(code == 200, "GET \(base)/status: \(response)")
            return try #require(
                try JSONSerialization.jsonObject(with: data) as? [String: Any],
                "\(String(decoding: data, as: UTF8.self))")
        }
    }
}
