import Foundation
import SextantStore
import Testing

extension IntegrationTests {
    @Suite("Export and prediction")
    struct ExportTests {
        /// docs/design.md 11: a small run is exported to safetensors, ONNX and npz; Python loads
        /// each (safetensors + numpy, onnxruntime, np.load) and predicts on raw test rows what
        /// `sextant predict` predicts, to 1e-5; the export warm-starts a new run, weights of
        /// another architecture are refused in one line, and the completed run continues.
        @Test("exports load in Python and predict as sextant predict does; warm start and continuation")
        func exportsPredictAndComeBack() async throws {
            try IntegrationEnvironment.requireDataset()
            for name in ["sextant", "sextant-server", "sextant-client"] {
                _ = try IntegrationEnvironment.executable(name)
            }
            let python = try #require(
                Self.python(), "python3 with numpy, onnxruntime and safetensors is needed (make test installs them)")
            let fixture = try FederationFixture(name: "export")
            defer { fixture.tearDown() }
            var configuration = fixture.configuration(name: "export")
            configuration.clientCount = 2
            configuration.minClients = 2
            configuration.trainingLimit = 2_000
            configuration.evaluationLimit = 500
            configuration.localSteps = 10
            configuration.maxVersions = 3
            let config = try fixture.write(configuration.yaml)
            try await launch(config, fixture: fixture, name: "launch-1")

            func run(_ name: String, _ executable: URL, _ arguments: [String]) async throws -> ManagedProcess {
                let process = try ManagedProcess(
                    name: name, executable: executable, arguments: arguments, directory: fixture.directory)
                try #require(try await process.waitForExit(timeout: .seconds(120)), "\(name) did not finish")
                return process
            }
            let sextant = try IntegrationEnvironment.executable("sextant")
            var files: [String: String] = [:]
            for format in ["safetensors", "onnx", "npz"] {
                let path = fixture.directory.appendingPathComponent("model.\(format)").path
                let export = try await run(
                    "export-\(format)", sextant, ["checkpoints", "export", fixture.databasePath, "-o", path])
                #expect(export.exitedSuccessfully, "\(export.standardError)")
                #expect(export.standardOutput.contains("(\(format)): run export-"), "\(export.standardOutput)")
                files[format] = path
            }

            let script = IntegrationEnvironment.packageRoot.appendingPathComponent(
                "IntegrationTests/export/check_export.py")
            let rows = fixture.directory.appendingPathComponent("rows.csv").path
            let made = try await run(
                "rows", python,
                [
                    script.path, "rows", "--idx-dir", IntegrationEnvironment.datasetDirectory.path, "--count", "300",
                    "--output", rows,
                ])
            try #require(made.exitedSuccessfully, "\(made.standardError)")
            let predictions = fixture.directory.appendingPathComponent("predictions.csv").path
            let predict = try await run(
                "predict", sextant,
                ["predict", "--model", files["safetensors"]!, "--data", rows, "--output", predictions])
            try #require(predict.exitedSuccessfully, "\(predict.standardError)")
            let check = try await run(
                "check", python,
                [
                    script.path, "check", "--safetensors", files["safetensors"]!, "--onnx", files["onnx"]!, "--npz",
                    files["npz"]!, "--data", rows, "--predictions", predictions, "--tolerance", "1e-5",
                ])
            #expect(check.exitedSuccessfully, "\(check.standardOutput)\n\(check.standardError)")
            #expect(!check.standardOutput.contains("FAIL"), "\(check.standardOutput)")
            #expect(check.standardOutput.contains("onnxruntime probabilities match sextant predict"))

            // The completed run continues when stop.max_versions is raised, under the same id.
            let store = try fixture.openStore()
            let first = try #require(try store.latestRun())
            #expect(try store.checkpointVersions(run: first.id).last == 3)
            configuration.maxVersions = 5
            try await launch(try fixture.write(configuration.yaml), fixture: fixture, name: "launch-2")
            let continued = try #require(try store.latestRun())
            #expect(continued.id == first.id)
            #expect(continued.status == .completed)
            #expect(try store.checkpointVersions(run: first.id) == Array(0...5))

            // Warm start: version 0 of a new run is the exported model.
            let exported = try #require(try store.checkpoint(run: first.id, version: 3))
            var warm = configuration
            warm.database = fixture.directory.appendingPathComponent("warm.sqlite").path
            warm.maxVersions = 1
            warm.extraYAML = ""
            let warmYAML = warm.yaml.replacingOccurrences(
                of: "model: mlp", with: "model: {name: mlp, initial_weights: \(files["safetensors"]!)}")
            try await launch(try fixture.write(warmYAML, to: "warm.yaml"), fixture: fixture, name: "launch-3")
            let warmStore = try CheckpointStore(path: warm.database, logger: .init(label: "test"), mode: .readOnly)
            let warmRun = try #require(try warmStore.latestRun())
            #expect(try warmStore.checkpoint(run: warmRun.id, version: 0)?.parameters == exported.parameters)

            // Weights of another architecture: refused at start, in one line, nothing created.
            let refusedDatabase = fixture.directory.appendingPathComponent("refused.sqlite").path
            let refusedYAML = warmYAML.replacingOccurrences(of: "name: mlp", with: "name: logreg")
                .replacingOccurrences(of: warm.database, with: refusedDatabase)
            let refusedConfig = try fixture.write(refusedYAML, to: "refused.yaml")
            let refused = try fixture.startServer(config: refusedConfig, name: "server-refused")
            try #require(try await refused.waitForExit(timeout: .seconds(60)))
            #expect(!refused.exitedSuccessfully)
            let errorLines = refused.standardError.split(separator: "\n").filter { $0.contains("initial_weights") }
            #expect(errorLines.count == 1, "\(refused.standardError)")
            #expect(
                errorLines.first?.contains(
                    "the weights were made for another architecture: tensor 1.weight has shape [200, 784] in the file, [10, 784] in this model"
                ) == true, "\(refused.standardError)")
            #expect(!FileManager.default.fileExists(atPath: refusedDatabase), "a refused start creates no database")
        }

        /// Runs `sextant launch` on `config` to its end.
        private func launch(_ config: URL, fixture: FederationFixture, name: String) async throws {
            let logs = fixture.directory.appendingPathComponent("logs-\(name)")
            let launch = try fixture.start(
                name, executable: "sextant", arguments: ["launch", "--config", config.path, "--logs", logs.path])
            let ended = try await launch.waitForExit(timeout: .seconds(240))
            let serverLog = (try? String(contentsOf: logs.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
            try #require(
                ended && launch.exitedSuccessfully, "\(name)\n\(launch.standardOutput)\n\(serverLog.suffix(3000))")
        }

        /// python3 on PATH, if it imports what the checks need.
        static func python() -> URL? {
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
            for directory in path.split(separator: ":") {
                let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("python3")
                guard FileManager.default.isExecutableFile(atPath: candidate.path) else { continue }
                let probe = Process()
                probe.executableURL = candidate
                probe.arguments = ["-c", "import numpy, onnxruntime, safetensors"]
                probe.standardOutput = FileHandle.nullDevice
                probe.standardError = FileHandle.nullDevice
                guard (try? probe.run()) != nil else { continue }
                probe.waitUntilExit()
                if probe.terminationStatus == 0 { return candidate }
            }
            return nil
        }
    }
}
