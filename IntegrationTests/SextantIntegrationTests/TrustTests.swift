import Foundation
import SextantStore
import SextantWire
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension IntegrationTests {
    /// Issue 14, "Trust no claim", with the real executables: files changed under a running
    /// server, and damage found in its database when it starts again.
    @Suite("Trust no claim")
    struct TrustTests {
        /// Lines of `process`'s log that say a version was aggregated.
        static func aggregations(_ process: ManagedProcess) -> Int {
            LogLines.all(in: process.standardError, containing: "aggregated").count
        }

        @Test("a -wal removed under the server stops it naming the file, and no acknowledged update is lost")
        func removedWALStopsTheServer() async throws {
            try IntegrationEnvironment.requireDataset()
            let fixture = try FederationFixture(name: "wal-removed")
            defer { fixture.tearDown() }
            var configuration = fixture.configuration(name: "wal-removed")
            configuration.maxVersions = 10
            let config = try fixture.write(configuration.yaml)
            var server = try fixture.startServer(config: config, name: "server-1")
            let clients = try (0..<configuration.clientCount).map {
                try fixture.startClient(config: config, index: $0, timePerStep: 0.01)
            }
            // Watch the log, not the database: a connection of the test's own would keep the old WAL's index alive.
            let first = server
            let reached = try await fixture.wait(timeout: .seconds(90), every: .milliseconds(20)) {
                !first.isRunning || Self.aggregations(first) >= 2
            }
            try #require(reached && server.isRunning, "no aggregation\n\(fixture.diagnostics())")
            try FileManager.default.removeItem(atPath: fixture.databasePath + "-wal")
            let stopped = try await server.waitForExit(timeout: .seconds(60))
            try #require(stopped, "the server went on without its WAL\n\(fixture.diagnostics())")
            #expect(server.statusDescription == "exit status 1", "\(server.tail())")
            let message = LogLines.first(in: server.standardError, containing: "storage failed")
            #expect(message?.contains("checkpoints.sqlite-wal was removed") == true, "\(server.tail())")

            server = try fixture.startServer(config: config, name: "server-2")
            try await fixture.expectEveryProcessFinished(server: server, clients: clients)
            let audit = try await fixture.expectCompletedRun(
                versions: configuration.maxVersions, clientLogs: clients.map { ($0.name, $0.standardError) })
            print("removed WAL: \(audit)")
        }

        @Test("a damaged latest checkpoint is skipped on restart, named in the log, and the run completes")
        func damagedCheckpointIsSkippedOnResume() async throws {
            try IntegrationEnvironment.requireDataset()
            let fixture = try FederationFixture(name: "damaged")
            defer { fixture.tearDown() }
            var configuration = fixture.configuration(name: "damaged")
            configuration.maxVersions = 10
            let config = try fixture.write(configuration.yaml)
            let first = try fixture.startServer(config: config, name: "server-1")
            let clients = try (0..<configuration.clientCount).map {
                try fixture.startClient(config: config, index: $0, timePerStep: 0.01)
            }
            let reached = try await fixture.wait(timeout: .seconds(90), every: .milliseconds(20)) {
                !first.isRunning || Self.aggregations(first) >= 3
            }
            try #require(reached && first.isRunning, "no aggregation\n\(fixture.diagnostics())")
            first.send(SIGKILL)
            try #require(try await first.waitForExit(timeout: .seconds(10)))

            // Damage the latest checkpoint's blob in place (same length, other bytes).
            let store = try fixture.openStore()
            let run = try #require(try store.latestRun())
            let latest = try #require(try store.checkpointVersions(run: run.id).last)
            try await fixture.alterCheckpoint(
                set: "parameters = zeroblob(length(parameters))", run: run.id, version: latest)

            let second = try fixture.startServer(config: config, name: "server-2")
            let serving = try await fixture.waitForLogLine(second, containing: "serving", timeout: .seconds(60))
            #expect(serving.flatMap { LogLines.value(of: "resumed", in: $0) } == "\(latest - 1)", "\(second.tail())")
            let skipped = LogLines.first(in: second.standardError, containing: "skipping damaged checkpoints")
            #expect(skipped?.contains("\(run.id)@\(latest)") == true, "\(second.tail())")
            #expect(skipped?.contains("SHA-256") == true, "\(second.tail())")

            // A version is committed again where the damaged one was, with a valid hash; updates
            // the clients trained on the skipped version are acknowledged as discarded, not refused.
            let recommitted = try await fixture.wait(timeout: .seconds(120), every: .milliseconds(50)) {
                !second.isRunning
                    || LogLines.all(in: second.standardError, containing: "aggregated").contains {
                        LogLines.value(of: "version", in: $0) == "\(latest)"
                    }
            }
            #expect(recommitted, "version \(latest) was not committed again\n\(fixture.diagnostics())")
            #expect(!second.standardError.contains("is newer than the server's"), "\(second.tail())")
            second.send(SIGTERM)
            _ = try await second.waitForExit(timeout: .seconds(60))
            for client in clients where client.isRunning { client.send(SIGTERM) }
            let verify = try fixture.start(
                "checkpoints-verify", executable: "sextant", arguments: ["checkpoints", "verify", fixture.databasePath])
            try #require(try await verify.waitForExit(timeout: .seconds(60)))
            #expect(verify.exitedSuccessfully, "\(verify.tail())")
            let sound = try store.latestSoundCheckpoint(run: run.id)
            #expect(sound.skipped.isEmpty && (sound.checkpoint?.version ?? 0) >= latest)
        }
    }
}

extension IntegrationTests.TrustTests {
    @Test("a join claiming 2^64-1 samples is clamped, and the honest clients finish the run")
    func hugeSampleClaim() async throws {
        try IntegrationEnvironment.requireDataset()
        let fixture = try FederationFixture(name: "claim")
        defer { fixture.tearDown() }
        var configuration = fixture.configuration(name: "claim")
        configuration.scheduler = "fedasync"
        configuration.clientCount = 2
        configuration.minClients = 2
        configuration.trainingLimit = 10_000
        configuration.maxVersions = 12
        let config = try fixture.write(configuration.yaml)
        let server = try fixture.startServer(config: config)
        let serving = try await fixture.waitForLogLine(server, containing: "serving", timeout: .seconds(60))
        let fingerprint = try #require(
            serving.flatMap { LogLines.value(of: "model", in: $0) }, "no serving line\n\(fixture.diagnostics())")
        let clients = try (0..<configuration.clientCount).map {
            try fixture.startClient(config: config, index: $0, timePerStep: 0.02)
        }
        let started = try await fixture.wait(timeout: .seconds(60)) {
            !server.isRunning || Self.aggregations(server) >= 1
        }
        try #require(started && server.isRunning, "\(fixture.diagnostics())")

        let liar = Probe(
            name: "join claiming 2^64-1 samples",
            frames: WireCodec.encode(
                .join(JoinMessage(clientName: "liar", sampleCount: UInt64.max, modelFingerprint: fingerprint))),
            expectation: .admitted)
        let outcomes = try await ProbeSession.run([liar], endpoint: fixture.endpoint, routingID: "liar")
        #expect(outcomes.first?.errorCode == nil, "\(outcomes.map(\.summary))")
        let clamped = try await fixture.waitForLogLine(server, containing: "claims more samples", timeout: .seconds(10))
        #expect(clamped.flatMap { LogLines.value(of: "counted", in: $0) } == "1000000", "\(server.tail())")

        // The next honest updates used to trap in the weighting; now the run goes on to the end.
        try await fixture.expectEveryProcessFinished(server: server, clients: clients)
        #expect(server.standardOutput.contains("completed at version \(configuration.maxVersions)"), "\(server.tail())")
    }
}
