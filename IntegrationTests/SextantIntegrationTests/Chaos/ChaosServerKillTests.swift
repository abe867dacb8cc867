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
    @Suite("Chaos: server killed")
    struct ChaosServerKillTests {
        /// Issue 7 (a): the server is killed with SIGKILL at random moments, several times in
        /// one run, and started again each time with the same command. The clients, never
        /// restarted, must rejoin each new server on their own; the run must complete with
        /// every version checkpointed and no acknowledged update lost.
        @Test("a server killed with SIGKILL several times resumes each time and loses no acknowledged update")
        func survivesRepeatedKills() async throws {
            try IntegrationEnvironment.requireDataset()
            for name in ["sextant", "sextant-server", "sextant-client"] {
                _ = try IntegrationEnvironment.executable(name)
            }
            let size = ChaosSize.current
            print("chaos server kills: size \(size.name), seed \(size.seed) (SEXTANT_CHAOS_SEED repeats it)")
            var random = SeededGenerator(seed: size.seed)
            let fixture = try FederationFixture(name: "chaos-server")
            defer { fixture.tearDown() }
            var configuration = fixture.configuration(name: "chaos-server")
            // Compass keeps the most state across a crash: groups, speeds and buffered updates.
            configuration.scheduler = "compass"
            // Every checkpoint in a file beside the database, as a large model's are (deltas are
            // appended to the delta segments whatever their size).
            configuration.fileThreshold = 0
            configuration.minLocalSteps = 10
            configuration.maxLocalSteps = 40
            configuration.maxVersions = size.versions
            configuration.speedDistribution = "normal"
            let config = try fixture.write(configuration.yaml)

            var server = try fixture.startServer(config: config, name: "server-0")
            let serving = try await fixture.waitForLogLine(server, containing: "serving", timeout: .seconds(60))
            try #require(serving?.contains("resumed=no") == true, "\(fixture.diagnostics())")
            let clients = try (0..<configuration.clientCount).map {
                try fixture.startClient(config: config, index: $0, timePerStep: 0.01)
            }

            var kills = 0
            let started = ContinuousClock.now
            for kill in 1...size.serverKills {
                // Spread the kills over the run; within a version, the moment is random.
                let threshold = kill * (size.versions - 2) / (size.serverKills + 1)
                let current = server
                let reached = try await fixture.wait(timeout: .seconds(90), every: .milliseconds(20)) {
                    try !current.isRunning || (fixture.latestVersion() ?? 0) >= threshold
                }
                try #require(reached && server.isRunning, "version \(threshold) never came\n\(fixture.diagnostics())")
                // A random moment within about one version's time, so that the last kills
                // still come before the run ends.
                let versionsSoFar = try fixture.latestVersion() ?? 1
                let perVersion = (ContinuousClock.now - started) / max(1, versionsSoFar)
                try await Task.sleep(
                    for: min(perVersion, .milliseconds(1500)) * Double.random(in: 0..<1, using: &random))
                guard server.isRunning else { break }
                server.send(SIGKILL)
                try #require(try await server.waitForExit(timeout: .seconds(10)))
                guard server.statusDescription == "killed by signal \(SIGKILL)" else { break }  // it had just finished
                kills += 1
                let committed = try #require(try fixture.latestVersion())
                for client in clients {
                    try #require(
                        client.isRunning, "\(client.name) did not survive kill \(kill)\n\(fixture.diagnostics())")
                }
                server = try fixture.startServer(config: config, name: "server-\(kill)")
                let line = try await fixture.waitForLogLine(server, containing: "serving", timeout: .seconds(60))
                let resumed = try #require(
                    line.flatMap { LogLines.value(of: "resumed", in: $0) }.flatMap(Int.init),
                    "restart \(kill) did not resume\n\(fixture.diagnostics())")
                #expect(resumed == committed, "restart \(kill) resumed from \(resumed), \(committed) was committed")
            }
            #expect(
                kills >= size.serverKills - 1,
                "only \(kills) of \(size.serverKills) kills happened before the run ended")

            try await fixture.expectEveryProcessFinished(server: server, clients: clients)
            let audit = try await fixture.expectCompletedRun(
                versions: size.versions, clientLogs: clients.map { ($0.name, $0.standardError) })
            #expect(audit.distinctAcknowledged >= size.versions, "too few acks to mean anything: \(audit)")
            print("chaos server kills: \(kills) SIGKILLs, \(size.versions) versions, \(audit)")
        }
    }
}
