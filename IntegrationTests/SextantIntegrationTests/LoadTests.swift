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

        /// The server and client keep freed large buffers (`LargeBufferReuse`): in a process
        /// of its own, as they turn it on, a freed 40 MB buffer (a 10M-parameter message) comes
        /// back without faulting its 9,766 pages in again, while with the C library's defaults
        /// every round faults them all in.
        @Test("a freed 40 MB buffer comes back without page faults under reuse, not without it")
        func largeBuffersAreReused() async throws {
            _ = try IntegrationEnvironment.executable("sextant")
            let fixture = try FederationFixture(name: "reuse")
            defer { fixture.tearDown() }
            let bench = try fixture.start(
                "bench-reuse", executable: "sextant", arguments: ["bench", "reuse", "--json"])
            let ended = try await bench.waitForExit(timeout: .seconds(60))
            try #require(ended, "sextant bench reuse did not finish\n\(fixture.diagnostics())")
            #expect(bench.exitedSuccessfully, "\(bench.tail())")
            struct Mode: Decodable { var faults: [Int] }
            struct Result: Decodable {
                var pages: Int
                var fresh: Mode
                var reused: Mode?
            }
            let result = try JSONDecoder().decode(Result.self, from: Data(bench.standardOutput.utf8))
            #expect(result.fresh.faults.min()! > result.pages * 9 / 10, "defaults: \(result.fresh.faults)")
            let reused = try #require(result.reused, "reuse is not available")
            #expect(reused.faults.max()! < result.pages / 10, "reuse: \(reused.faults)")
        }
    }
}
