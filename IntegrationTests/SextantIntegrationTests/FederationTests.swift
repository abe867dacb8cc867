import Foundation
import SextantStore
import Testing

extension IntegrationTests {
    @Suite("Federation")
    struct FederationTests {
        /// `sextant launch` starts a server and 4 clients (mlp, iid partition, FedAvg); the
        /// run stops at the target accuracy, with one verified checkpoint per aggregation.
        @Test("4 clients reach 80% test accuracy and every aggregation is checkpointed")
        func reachesTargetAccuracy() async throws {
            try IntegrationEnvironment.requireDataset()
            for name in ["sextant", "sextant-server", "sextant-client"] {
                _ = try IntegrationEnvironment.executable(name)
            }
            let fixture = try FederationFixture(name: "federation")
            defer { fixture.tearDown() }
            var configuration = fixture.configuration(name: "federation")
            configuration.targetAccuracy = 0.80
            configuration.maxVersions = 40  // safety cap: reaching it means the target was missed
            let config = try fixture.write(configuration.yaml)
            let logs = fixture.directory.appendingPathComponent("logs")

            let launch = try fixture.start(
                "launch", executable: "sextant", arguments: ["launch", "--config", config.path, "--logs", logs.path])
            let ended = try await launch.waitForExit(timeout: .seconds(180))
            let serverLog = (try? String(contentsOf: logs.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
            try #require(
                ended,
                "sextant launch did not finish\n\(fixture.diagnostics())\n--- server.log\n\(serverLog.suffix(3000))")
            #expect(launch.exitedSuccessfully, "\(fixture.diagnostics())")

            // Every process exited 0, as the launcher reports them.
            let output = launch.standardOutput
            #expect(output.contains("server exited with status 0"), "\(output)")
            for index in 0..<configuration.clientCount {
                #expect(output.contains("client-\(index) exited with status 0"), "\(output)")
                let clientLog =
                    (try? String(contentsOf: logs.appendingPathComponent("client-\(index).log"), encoding: .utf8)) ?? ""
                #expect(
                    clientLog.contains("client-\(index): done after"), "client-\(index).log:\n\(clientLog.suffix(2000))"
                )
            }

            // The server's last line: run <id> completed at version N, test accuracy X%.
            #expect(LogLines.first(in: serverLog, containing: "serving")?.contains("resumed=no") == true)
            let final = try #require(
                serverLog.split(separator: "\n").compactMap(FinalLine.init).last,
                "no final line in server.log:\n\(serverLog.suffix(3000))")
            #expect(final.status == "completed")
            #expect(final.accuracyPercent >= 80, "final accuracy \(final.accuracyPercent)%")
            #expect(
                final.version >= 1 && final.version < configuration.maxVersions,
                "stopped at the safety cap, not the target")

            // The database: one checkpoint per aggregation, 0...N, each hash verified.
            let store = try fixture.openStore()
            let run = try #require(try store.latestRun())
            #expect(run.id == final.run)
            #expect(run.status == .completed)
            #expect(try store.checkpointVersions(run: run.id) == Array(0...final.version))
            let summaries = try store.checkpointSummaries(run: run.id)
            let lastAccuracy = try #require(summaries.last?.accuracy)
            #expect(lastAccuracy >= 0.80)
            #expect(abs(lastAccuracy * 100 - final.accuracyPercent) < 0.01, "the log and the database disagree")
            for summary in summaries.dropFirst() {
                #expect(summary.accuracy != nil, "version \(summary.version) has no accuracy")
            }
            let report = try store.verify()
            #expect(report.isOK, "\(report)")
            #expect(report.checkpointsChecked == final.version + 1)

            // Every update ended applied (in the version its round produced) or discarded.
            let updates = try store.updates(run: run.id)
            #expect(!updates.isEmpty)
            #expect(updates.allSatisfy { $0.state != .buffered }, "updates left buffered after completion")
            for summary in summaries.dropFirst() {
                let applied = updates.filter { $0.appliedVersion == summary.version && $0.state == .applied }
                #expect(
                    Double(applied.count) == summary.metrics["updates"],
                    "version \(summary.version): \(applied.count) applied updates, metrics say \(summary.metrics["updates"] ?? -1)"
                )
            }
        }
    }
}

/// The server's final standard-output line: `run <id> <status> at version N, test accuracy X%`.
struct FinalLine {
    var run: String
    var status: String
    var version: Int
    /// -1 when the server printed "n/a".
    var accuracyPercent: Double

    init?(_ line: Substring) {
        guard let match = line.firstMatch(of: #/run (\S+) (\w+) at version (\d+), test accuracy (n/a|[0-9.]+%)/#),
            let version = Int(match.output.3)
        else { return nil }
        run = String(match.output.1)
        status = String(match.output.2)
        self.version = version
        accuracyPercent = match.output.4.hasSuffix("%") ? Double(match.output.4.dropLast()) ?? -1 : -1
    }
}
