import Foundation
import Testing

extension IntegrationTests.SecureAggregationTests {
    /// docs/design.md 13: a client whose configuration uses secure aggregation, joining a
    /// server whose run does not (or the reverse), stops with one error line naming the
    /// setting, before it trains; the server goes on serving.
    @Test(
        "a client and a server that disagree on secure aggregation stop the client before it trains",
        arguments: [true, false])
    func mismatchStopsTheClient(serverUsesIt: Bool) async throws {
        try IntegrationEnvironment.requireDataset()
        let fixture = try FederationFixture(name: "secagg-mismatch")
        defer { fixture.tearDown() }
        var configuration = fixture.configuration(name: "secagg-mismatch")
        configuration.clientCount = 4
        configuration.trainingLimit = 4_000
        configuration.evaluationLimit = 200
        configuration.minClients = 4
        let plainConfig = try fixture.write(configuration.yaml, to: "plain.yaml")
        configuration.extraYAML = Self.secureYAML
        let secureConfig = try fixture.write(configuration.yaml, to: "secure.yaml")
        let server = try fixture.startServer(config: serverUsesIt ? secureConfig : plainConfig)
        _ = try await fixture.waitForLogLine(server, containing: "serving", timeout: .seconds(60))
        // min_clients is 4: the one client would wait for the others, never train, without the check.
        let client = try fixture.startClient(config: serverUsesIt ? plainConfig : secureConfig, index: 0)
        let exited = try await client.waitForExit(timeout: .seconds(30))
        try #require(exited, "the client did not stop\n\(fixture.diagnostics())")
        #expect(!client.exitedSuccessfully)
        let errors = LogLines.all(in: client.standardError, containing: " error ")
        #expect(errors.count == 1, "\(client.standardError)")
        #expect(errors.first?.contains("privacy.secure_aggregation") == true, "\(client.standardError)")
        #expect(!client.standardError.contains("] training"))
        #expect(server.isRunning)
    }
}
