import Foundation
import SextantStore
import Testing

extension IntegrationTests {
    @Suite("Chaos: storage faults")
    struct ChaosStorageFaultTests {
        /// Issue 7 (c), where mounting is permitted: the database lives on a 64 MiB tmpfs,
        /// which a file fills in the middle of the run.
        @Test(
            "a server whose file system fills up stops naming it, and finishes once space is freed",
            .enabled(if: StorageFault.canMountTmpfs, "mounting a tmpfs is not permitted here"))
        func fullFileSystem() async throws {
            try await runWithFaults(.fullFileSystem)
        }

        /// Issue 7 (c) where mounting is not permitted, and at full size: the server's
        /// file-size limit is lowered to what its database files hold.
        @Test(
            "a server past its file-size limit stops naming it, and finishes once restarted without it",
            .enabled(
                if: ChaosSize.current.name == "full" || !StorageFault.canMountTmpfs,
                "at CI size the full file system covers this"))
        func fileSizeLimit() async throws {
            try await runWithFaults(.fileSizeLimit)
        }

        enum Fault { case fullFileSystem, fileSizeLimit }

        /// Several times per run: make the database unwritable, expect the server to stop
        /// with a non-zero status and a message naming the cause, while the clients wait;
        /// undo the fault and start the server again, which must resume from its last
        /// committed version. The run must then complete, verified and losing no acknowledged update.
        private func runWithFaults(_ fault: Fault) async throws {
            try IntegrationEnvironment.requireDataset()
            for name in ["sextant", "sextant-server", "sextant-client"] {
                _ = try IntegrationEnvironment.executable(name)
            }
            let size = ChaosSize.current
            let fixture = try FederationFixture(name: "chaos-storage")
            defer { fixture.tearDown() }
            var mount: TmpfsMount?
            if fault == .fullFileSystem {
                // A database of the mlp (0.8 MB per model) takes a few MB per version here.
                mount = try TmpfsMount(at: fixture.directory.appendingPathComponent("db"), bytes: 64 << 20)
                fixture.databaseDirectory = mount!.directory
            }
            defer { mount?.unmount() }
            var configuration = fixture.configuration(name: "chaos-storage")
            // Every checkpoint in a file beside the database, as a large model's are (deltas are
            // appended to the delta segments whatever their size).
            configuration.fileThreshold = 0
            configuration.maxVersions = size.versions
            let config = try fixture.write(configuration.yaml)

            var server = try fixture.startServer(config: config, name: "server-0")
            try #require(
                try await fixture.waitForLogLine(server, containing: "serving", timeout: .seconds(60)) != nil,
                "\(fixture.diagnostics())")
            let clients = try (0..<configuration.clientCount).map {
                try fixture.startClient(config: config, index: $0, timePerStep: 0.02)
            }

            for number in 1...size.storageFaults {
                let threshold = number * (size.versions - 2) / (size.storageFaults + 1)
                let current = server
                let reached = try await fixture.wait(timeout: .seconds(90), every: .milliseconds(20)) {
                    try !current.isRunning || (fixture.latestVersion() ?? 0) >= threshold
                }
                try #require(reached && server.isRunning, "version \(threshold) never came\n\(fixture.diagnostics())")
                let expectedCause: String
                switch fault {
                case .fullFileSystem:
                    try mount!.fill()
                    expectedCause = "is full"
                case .fileSizeLimit:
                    let limit = StorageFault.largestDatabaseFile(fixture.databasePath)
                    try StorageFault.limitFileSize(ofProcess: server.processIdentifier, to: limit)
                    expectedCause = "file-size limit of \(limit) bytes"
                }
                let stopped = try await server.waitForExit(timeout: .seconds(60))
                try #require(stopped, "the server went on after fault \(number)\n\(fixture.diagnostics())")
                #expect(server.statusDescription == "exit status 1", "\(server.tail())")
                let message = LogLines.first(in: server.standardError, containing: "storage failed")
                #expect(message?.contains(expectedCause) == true, "no message naming the cause:\n\(server.tail())")
                for client in clients {
                    try #require(
                        client.isRunning, "\(client.name) left with the failed server\n\(fixture.diagnostics())")
                }
                let committed = try #require(try fixture.latestVersion())
                #expect(message?.contains("it resumes from version \(committed).") == true, "\(message ?? "")")
                print(
                    "chaos storage \(fault) \(number): stopped at version \(committed): \(message.map(String.init) ?? "")"
                )

                if fault == .fullFileSystem { try mount!.free() }
                server = try fixture.startServer(config: config, name: "server-\(number)")
                let line = try await fixture.waitForLogLine(server, containing: "serving", timeout: .seconds(60))
                let resumed = try #require(
                    line.flatMap { LogLines.value(of: "resumed", in: $0) }.flatMap(Int.init),
                    "restart \(number) did not resume\n\(fixture.diagnostics())")
                #expect(resumed == committed)
            }

            try await fixture.expectEveryProcessFinished(server: server, clients: clients)
            let audit = try await fixture.expectCompletedRun(
                versions: size.versions, clientLogs: clients.map { ($0.name, $0.standardError) })
            print("chaos storage \(fault): \(size.storageFaults) faults, \(size.versions) versions, \(audit)")
        }
    }
}
