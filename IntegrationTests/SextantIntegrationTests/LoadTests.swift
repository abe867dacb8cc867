import Foundation
import Testing

extension IntegrationTests {
    @Suite("Load")
    struct LoadTests {
        /// Issue 7 item 5 at CI size: `sextant bench load` with 50 clients in 2 processes
        /// (`sextant-client --sessions 25`), 3 FedAvg rounds over all of them. The full size
        /// (50 to 500 clients, 20 rounds) is in docs/reliability.md. No time is asserted.
        @Test("50 clients in two processes finish 3 rounds of FedAvg, each update stored and applied")
        func fiftyClients() async throws {
            try IntegrationEnvironment.requireDataset()
            for name in ["sextant", "sextant-server", "sextant-client"] {
                _ = try IntegrationEnvironment.executable(name)
            }
            let fixture = try FederationFixture(name: "load")
            defer { fixture.tearDown() }
            let bench = try fixture.start(
                "bench-load", executable: "sextant",
                arguments: [
                    "bench", "load", "--clients", "50", "--versions", "3", "--sessions-per-process", "25",
                    "--output", fixture.directory.appendingPathComponent("bench").path,
                    "--bin", IntegrationEnvironment.binDirectory.path,
                    "--data", IntegrationEnvironment.datasetDirectory.path, "--timeout", "150", "--json",
                ])
            let ended = try await bench.waitForExit(timeout: .seconds(240))
            try #require(ended, "sextant bench load did not finish\n\(fixture.diagnostics())")
            #expect(bench.exitedSuccessfully, "\(bench.tail())")

            struct Result: Decodable {
                var clients: Int
                var processes: Int
                var versions: Int
                var updatesStored: Int
                var updatesApplied: Int
                var serverPeakMemoryBytes: Int
                var serverCPUMillisecondsPerUpdate: Double
                var problems: [String]
            }
            let results = try JSONDecoder().decode([Result].self, from: Data(bench.standardOutput.utf8))
            let result = try #require(results.first, "\(bench.standardOutput)")
            #expect(result.problems.isEmpty, "\(result.problems)")
            #expect(result.clients == 50 && result.processes == 2 && result.versions == 3)
            // FedAvg over all 50 clients: each round applies one update from every client.
            #expect(result.updatesApplied == 150, "\(result.updatesApplied) updates applied")
            #expect(result.updatesStored >= result.updatesApplied)
            #expect(result.serverPeakMemoryBytes > 0 && result.serverCPUMillisecondsPerUpdate > 0)
        }
    }
}
