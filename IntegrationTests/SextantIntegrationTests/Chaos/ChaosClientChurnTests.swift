import Foundation
import SextantML
import SextantStore
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension IntegrationTests {
    @Suite("Chaos: client churn")
    struct ChaosClientChurnTests {
        /// Issue 7 (b): in waves, a random third or more of the clients are killed with
        /// SIGKILL and started again under the same name, while synchronous FedAvg (whose
        /// rounds wait for every participant) trains. The run must complete; updates a killed
        /// client had acknowledged stay in the database; its unacknowledged work may be lost.
        @Test(
            "clients killed with SIGKILL and restarted (at least 30% churn) neither stall the run nor lose acknowledged updates"
        )
        func survivesClientChurn() async throws {
            try IntegrationEnvironment.requireDataset()
            for name in ["sextant", "sextant-server", "sextant-client"] {
                _ = try IntegrationEnvironment.executable(name)
            }
            let size = ChaosSize.current
            print("chaos client churn: size \(size.name), seed \(size.seed) (SEXTANT_CHAOS_SEED repeats it)")
            var random = SeededGenerator(seed: size.seed)
            let fixture = try FederationFixture(name: "chaos-churn")
            defer { fixture.tearDown() }
            var configuration = fixture.configuration(name: "chaos-churn")
            configuration.clientCount = size.churnClients
            configuration.minClients = size.churnClients
            configuration.maxVersions = size.versions
            configuration.trainingLimit = 1_000 * size.churnClients
            // A client killed for good would hold a round this long; restarted ones rejoin sooner.
            configuration.roundTimeout = 30
            configuration.clientTimeout = 10
            let config = try fixture.write(configuration.yaml)

            let server = try fixture.startServer(config: config)
            try #require(
                try await fixture.waitForLogLine(server, containing: "serving", timeout: .seconds(60)) != nil,
                "\(fixture.diagnostics())")
            let timePerStep = 0.03
            var current = try (0..<size.churnClients).map {
                try fixture.startClient(config: config, index: $0, timePerStep: timePerStep)
            }
            var all = current.enumerated().map { (client: "client-\($0.offset)", process: $0.element) }

            var kills = 0
            let victimsPerWave = Int((Double(size.churnClients) * size.churnFraction).rounded(.up))
            for wave in 1...size.churnWaves {
                let threshold = wave * (size.versions - 2) / (size.churnWaves + 1)
                let reached = try await fixture.wait(timeout: .seconds(120), every: .milliseconds(20)) {
                    try !server.isRunning || (fixture.latestVersion() ?? 0) >= threshold
                }
                try #require(reached && server.isRunning, "version \(threshold) never came\n\(fixture.diagnostics())")
                try await Task.sleep(for: .milliseconds(Int.random(in: 0..<800, using: &random)))
                let victims = Array((0..<size.churnClients).shuffled(using: &random).prefix(victimsPerWave)).sorted()
                for index in victims {
                    current[index].send(SIGKILL)
                    try #require(try await current[index].waitForExit(timeout: .seconds(10)))
                    if current[index].statusDescription == "killed by signal \(SIGKILL)" { kills += 1 }
                }
                // Down for a moment, as a crashed silo would be, then back under the same name.
                try await Task.sleep(for: .milliseconds(Int.random(in: 200..<2000, using: &random)))
                for index in victims {
                    current[index] = try fixture.startClient(
                        config: config, index: index, timePerStep: timePerStep, processName: "client-\(index).\(wave)")
                    all.append((client: "client-\(index)", process: current[index]))
                }
            }
            let churn = Double(kills) / Double(size.churnClients)
            #expect(churn >= 0.3, "only \(kills) kills among \(size.churnClients) clients")

            try await fixture.expectEveryProcessFinished(server: server, clients: current)
            let audit = try await fixture.expectCompletedRun(
                versions: size.versions, clientLogs: all.map { ($0.client, $0.process.standardError) })
            #expect(audit.distinctAcknowledged >= size.versions, "too few acks to mean anything: \(audit)")
            print(
                "chaos client churn: \(kills) SIGKILLs of \(size.churnClients) clients (churn \(Int(churn * 100))%), \(size.versions) versions, \(audit)"
            )
        }
    }
}
