import Foundation
import SextantStore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension IntegrationTests {
    /// CURVE with an allow-list, end to end with the real executables: `sextant keygen`,
    /// a server that admits only listed keys, clients with a stranger's key or no CURVE,
    /// and an allow-list reloaded on SIGHUP.
    @Suite("CURVE and the allow-list")
    struct CurveTests {
        @Test("only allowed keys join, identities come from the allow-list, SIGHUP admits a new key")
        func allowListDecidesWhoJoins() async throws {
            try IntegrationEnvironment.requireDataset()
            let fixture = try FederationFixture(name: "curve")
            defer { fixture.tearDown() }
            let keygen = try fixture.start(
                "keygen", executable: "sextant",
                arguments: ["keygen", "--out", "keys", "server", "client-0", "client-1", "client-2", "stranger"])
            try #require(
                try await keygen.waitForExit(timeout: .seconds(30)) && keygen.exitedSuccessfully, "\(keygen.tail())")
            let keys = fixture.directory.appendingPathComponent("keys")
            let mode =
                try FileManager.default.attributesOfItem(atPath: keys.appendingPathComponent("client-0.key").path)[
                    .posixPermissions] as? Int
            #expect(mode == 0o600, "secret key files are written 0600")
            func publicLine(_ name: String) throws -> String {
                try String(contentsOf: keys.appendingPathComponent("\(name).pub"), encoding: .utf8)
            }
            let allowList = keys.appendingPathComponent("allowed_clients")
            try (try publicLine("client-0") + publicLine("client-1")).write(
                to: allowList, atomically: true, encoding: .utf8)

            var configuration = fixture.configuration(name: "curve")
            configuration.model = "logreg"
            configuration.trainingLimit = 6_000
            configuration.evaluationLimit = 1_000
            configuration.learningRate = 0.05
            configuration.minClients = 2
            configuration.clientCount = 3
            configuration.maxVersions = 60
            configuration.meanTimePerStep = 0.02  // 0.4 s rounds: time to try the strangers mid-run
            let plain = try fixture.write(configuration.yaml, to: "plain.yaml")
            configuration.extraYAML = """
                security:
                  server_secret_key: keys/server.key
                  allowed_clients: keys/allowed_clients
                  server_public_key: keys/server.pub
                  client_key: keys/{name}.key

                """
            let config = try fixture.write(configuration.yaml)

            let server = try fixture.startServer(config: config)
            // The announced name is not the identity: the allow-list's name is.
            let first = try fixture.start(
                "client-0", executable: "sextant-client",
                arguments: [
                    "--config", config.path, "--index", "0", "--name", "announced-zero", "--key", "keys/client-0.key",
                ])
            let second = try fixture.startClient(config: config, index: 1)
            let joined = try await fixture.waitForLogLine(server, containing: "client=client-1", timeout: .seconds(60))
            try #require(joined != nil, "client-1 did not join\n\(fixture.diagnostics())")

            // A real key pair that is not on the list: refused at the handshake, the client says why.
            let stranger = try fixture.start(
                "stranger", executable: "sextant-client",
                arguments: [
                    "--config", config.path, "--index", "2", "--name", "client-1", "--key", "keys/stranger.key",
                ])
            try #require(
                try await stranger.waitForExit(timeout: .seconds(30)), "the stranger kept trying\n\(stranger.tail())")
            #expect(!stranger.exitedSuccessfully)
            #expect(stranger.standardError.contains("refused this client's key"), "\(stranger.tail())")
            let refusedKey = try await fixture.waitForLogLine(
                server, containing: "not on the allow-list", timeout: .seconds(10))
            #expect(refusedKey?.contains("peer=127.0.0.1") == true, "\(refusedKey ?? "no log line")")

            // No CURVE at all: the handshake fails on the mechanism; both sides say so.
            let plainClient = try fixture.start(
                "plain", executable: "sextant-client", arguments: ["--config", plain.path, "--index", "2"])
            try #require(
                try await plainClient.waitForExit(timeout: .seconds(30)),
                "the plain client kept trying\n\(plainClient.tail())")
            #expect(!plainClient.exitedSuccessfully)
            #expect(plainClient.standardError.contains("requires CURVE"), "\(plainClient.tail())")
            let refusedConnection = try await fixture.waitForLogLine(
                server, containing: "refused a connection", timeout: .seconds(10))
            #expect(refusedConnection?.contains("peer=127.0.0.1") == true, "\(refusedConnection ?? "no log line")")

            // Add client-2 to the list and reload it without a restart.
            try (try publicLine("client-0") + publicLine("client-1") + publicLine("client-2"))
                .write(to: allowList, atomically: true, encoding: .utf8)
            server.send(SIGHUP)
            let reloaded = try await fixture.waitForLogLine(
                server, containing: "reloaded the allow-list", timeout: .seconds(10))
            try #require(reloaded != nil, "no reload\n\(fixture.diagnostics())")
            let third = try fixture.startClient(config: config, index: 2)

            try #require(
                try await server.waitForExit(timeout: .seconds(180)), "the run did not finish\n\(fixture.diagnostics())"
            )
            #expect(server.exitedSuccessfully, "\(server.tail())")
            for client in [first, second, third] {
                _ = try await client.waitForExit(timeout: .seconds(30))
                #expect(client.exitedSuccessfully, "\(client.tail())")
            }
            #expect(
                LogLines.all(in: server.standardError, containing: "client=client-2").contains {
                    $0.contains("client joined")
                })

            // Checkpoints and updates name the allow-list's identities only.
            let store = try fixture.openStore()
            let run = try #require(try store.latestRun())
            #expect(run.status == .completed)
            #expect(Set(try store.clients(run: run.id).map(\.id)) == ["client-0", "client-1", "client-2"])
            let senders = Set(try store.updates(run: run.id).map(\.client))
            #expect(
                senders.isSubset(of: ["client-0", "client-1", "client-2"]) && senders.contains("client-2"), "\(senders)"
            )
        }

        @Test("a non-loopback address without CURVE needs --insecure, which is logged loudly")
        func nonLoopbackNeedsInsecure() async throws {
            try IntegrationEnvironment.requireDataset()
            let fixture = try FederationFixture(name: "insecure")
            defer { fixture.tearDown() }
            var configuration = fixture.configuration(name: "insecure")
            configuration.model = "logreg"
            configuration.bind = "tcp://0.0.0.0:\(fixture.port)"
            let config = try fixture.write(configuration.yaml)

            let refused = try fixture.startServer(config: config, name: "refused")
            try #require(try await refused.waitForExit(timeout: .seconds(30)))
            #expect(!refused.exitedSuccessfully)
            #expect(refused.standardError.contains("--insecure"), "\(refused.tail())")
            #expect(
                !FileManager.default.fileExists(atPath: fixture.databasePath), "nothing is created before the check")

            let insecure = try fixture.start(
                "insecure", executable: "sextant-server", arguments: ["--config", config.path, "--insecure"])
            let serving = try await fixture.waitForLogLine(insecure, containing: "] serving", timeout: .seconds(30))
            #expect(serving != nil, "\(insecure.tail())")
            #expect(insecure.standardError.contains("INSECURE"), "\(insecure.tail())")
            insecure.send(SIGTERM)
            _ = try await insecure.waitForExit(timeout: .seconds(30))
            #expect(insecure.exitedSuccessfully, "\(insecure.tail())")
        }
    }
}
