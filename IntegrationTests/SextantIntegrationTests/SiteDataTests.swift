import Foundation
import SextantStore
import Testing

extension IntegrationTests {
    /// Sites' own CSV files, end to end with the real executables: the agreement on
    /// preprocessing from statistics, a model declared in YAML, federated evaluation, and
    /// bad sites refused in one line while the others train on.
    @Suite("Sites' own data")
    struct SiteDataTests {
        /// A learnable table: two numbers, a region, an identifier and a text label; the
        /// label depends on all three features. `missing` leaves every k-th `x2` empty.
        static func table(rows: Int, seed: UInt64, missingEvery: Int = 17) -> String {
            var state = seed
            func uniform() -> Double {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Double(state >> 11) / Double(1 << 53)
            }
            let regions = ["east", "north", "south"]
            var lines = ["patient_id,x1,x2,region,outcome"]
            for row in 0..<rows {
                let x1 = uniform() * 4 - 2
                let x2 = uniform() * 4 - 2
                let region = regions[Int(uniform() * 3) % 3]
                let effect = region == "north" ? 1.0 : (region == "south" ? -1.0 : 0)
                let score = 1.5 * x1 - x2 + effect + (uniform() - 0.5) * 0.5
                let x2Cell = row % missingEvery == 3 ? "" : String(format: "%.4f", x2)
                lines.append(
                    "MRN-\(seed)-\(row),\(String(format: "%.4f", x1)),\(x2Cell),\"\(region)\",\(score > 0 ? "yes" : "no")"
                )
            }
            return lines.joined(separator: "\r\n") + "\r\n"
        }

        @Test("honest sites training a small model at full speed never trip the message rate limit")
        func fastRoundsStayWithinTheRateLimit() async throws {
            let fixture = try FederationFixture(name: "fast-sites")
            defer { fixture.tearDown() }
            for index in 0..<3 {
                try fixture.write(Self.table(rows: 60, seed: UInt64(index + 1)), to: "site-\(index).csv")
            }
            // One local step a round and federated evaluation after every version: a round
            // takes milliseconds, so each site sends its update and its evaluation tens of
            // times a second, as a small tabular model really does.
            let config = try fixture.write(
                """
                run: {name: fast-sites, seed: 3}
                model: {name: tabular, task: {type: binary}, layers: [{type: linear}]}
                data: {dataset: table, label: outcome, ignore: [patient_id], categorical: [region], missing: mean}
                training: {learning_rate: 0.05, batch_size: 16}
                scheduler: {kind: fedavg, min_clients: 3, local_steps: 1}
                stop: {max_versions: 80}
                server: {bind: "\(fixture.endpoint)", database: "\(fixture.databasePath)"}
                clients: {count: 3, data: "\(fixture.directory.path)/site-{index}.csv", mean_time_per_step: 0}
                """)
            let server = try fixture.startServer(config: config)
            let clients = try (0..<3).map { try fixture.startClient(config: config, index: $0) }
            try await fixture.expectEveryProcessFinished(server: server, clients: clients)
            #expect(!server.standardError.contains("over its rate limit"), "\(server.tail())")
            let store = try fixture.openStore()
            let run = try #require(try store.latestRun())
            #expect(run.status == .completed, "\(server.tail())")
            #expect(try store.latestCheckpoint(run: run.id)?.version == 80)
        }

        @Test("three sites agree on preprocessing, train a declared model and evaluate it; bad sites are refused")
        func threeSites() async throws {
            let fixture = try FederationFixture(name: "sites")
            defer { fixture.tearDown() }
            let sites = fixture.directory.appendingPathComponent("sites")
            try FileManager.default.createDirectory(at: sites, withIntermediateDirectories: true)
            for (index, rows) in [240, 160, 100].enumerated() {
                try fixture.write(Self.table(rows: rows, seed: UInt64(index + 1)), to: "sites/site-\(index).csv")
            }
            let config = try fixture.write(
                """
                run: {name: sites, seed: 3}
                model:
                  name: tabular
                  task: {type: binary}
                  layers: [{type: linear, out: 16}, {type: relu}, {type: linear}]
                data:
                  dataset: table
                  label: outcome
                  ignore: [patient_id]
                  categorical: [region]
                  missing: mean
                  validation_fraction: 0.25
                training: {learning_rate: 0.05, batch_size: 16, momentum: 0.9}
                scheduler: {kind: fedavg, min_clients: 3, local_steps: 10}
                stop: {max_versions: 40, target_metric: balanced_accuracy, target_value: 0.9}
                server: {bind: "\(fixture.endpoint)", database: "\(fixture.databasePath)"}
                clients: {count: 3, data: "\(sites.path)/site-{index}.csv", mean_time_per_step: 0}
                """)
            let server = try fixture.startServer(config: config)
            // One site first, so that the agreement holds the federation's columns when the
            // site with other columns arrives; the clients emulate 0.1 s a step, so the run
            // lasts long enough for the sites refused after the agreement to meet it.
            var clients = [try fixture.startClient(config: config, index: 0, timePerStep: 0.1)]
            let first = try await fixture.waitForLogLine(
                server, containing: "site statistics received", timeout: .seconds(60))
            try #require(first != nil, "\(fixture.diagnostics())")

            // Columns that differ from the others': refused, in one line, before the agreement.
            var wrong = Self.table(rows: 30, seed: 9)
            wrong = wrong.replacingOccurrences(of: "patient_id,x1,x2,", with: "patient_id,x1,x3,")
            try fixture.write(wrong, to: "wrong-columns.csv")
            let wrongSite = try fixture.start(
                "wrong-columns", executable: "sextant-client",
                arguments: [
                    "--config", config.path, "--index", "0", "--name", "wrong-columns", "--data",
                    fixture.directory.appendingPathComponent("wrong-columns.csv").path,
                ])
            _ = try await wrongSite.waitForExit(timeout: .seconds(60))
            clients += try (1..<3).map { try fixture.startClient(config: config, index: $0, timePerStep: 0.1) }

            let agreed = try await fixture.waitForLogLine(
                server, containing: "preprocessing agreed", timeout: .seconds(60))
            try #require(agreed != nil, "\(fixture.diagnostics())")
            // x1, x2 and the one-hot of three regions.
            #expect(agreed.flatMap { LogLines.value(of: "inputs", in: $0) } == "5", "\(agreed ?? "")")
            #expect(!wrongSite.exitedSuccessfully)
            #expect(wrongSite.standardError.contains("feature columns differ"), "\(wrongSite.tail())")

            // After the agreement: a label nobody agreed on, and a cell that is not a number.
            let unknownLabel = Self.table(rows: 20, seed: 11).replacingOccurrences(of: ",yes\r\n", with: ",maybe\r\n")
            try fixture.write(unknownLabel, to: "unknown-label.csv")
            var notNumber = Self.table(rows: 20, seed: 12).split(separator: "\r\n").map(String.init)
            notNumber[5] = notNumber[5].replacingOccurrences(of: "MRN-12-4,", with: "MRN-12-4,abc")
            try fixture.write(notNumber.joined(separator: "\r\n") + "\r\n", to: "not-a-number.csv")
            var refusals: [(ManagedProcess, String)] = []
            for (file, expected) in [
                ("unknown-label.csv", "outside the agreed classes"), ("not-a-number.csv", "not-a-number.csv"),
            ] {
                let process = try fixture.start(
                    file, executable: "sextant-client",
                    arguments: [
                        "--config", config.path, "--index", "0", "--name", file, "--data",
                        fixture.directory.appendingPathComponent(file).path,
                    ])
                refusals.append((process, expected))
            }
            for (process, expected) in refusals {
                _ = try await process.waitForExit(timeout: .seconds(60))
                #expect(!process.exitedSuccessfully, "\(process.tail())")
                #expect(process.standardError.contains(expected), "\(process.tail())")
            }
            #expect(
                refusals[1].0.standardError.contains("row") || refusals[1].0.standardError.contains("line"),
                "the error names the row: \(refusals[1].0.tail())")

            try await fixture.expectEveryProcessFinished(server: server, clients: clients)
            let log = server.standardError
            #expect(log.contains("reached the target metric"), "\(server.tail())")
            let store = try fixture.openStore()
            let run = try #require(try store.latestRun())
            #expect(run.status == .completed)
            let last = try #require(
                try store.checkpointSummaries(run: run.id).last { $0.metrics["federated_sites"] != nil })
            #expect(last.metrics["federated_sites"] == 3)
            // 25% of 240, 160 and 100 records.
            #expect(last.metrics["federated_records"] == 125)
            #expect(last.metrics["federated_balanced_accuracy"]! >= 0.9)
            #expect(last.metrics["federated_roc_auc"] != nil)
            // The pipeline is stored with the run, for exports and restarts.
            let stored = try store.schedulerState(run: run.id)["preprocessing"]
            #expect(stored.map { String(decoding: $0, as: UTF8.self).contains("\"north\"") } == true)

            // The model leaves with its preprocessing: safetensors, ONNX and npz, and Python
            // (onnxruntime, numpy on the safetensors weights) predicts on raw rows, quoted
            // categories and empty cells included, as `sextant predict` does.
            guard let python = ExportTests.python() else {
                Issue.record("python3 with numpy, onnxruntime and safetensors is needed (make test installs them)")
                return
            }
            let sextant = try IntegrationEnvironment.executable("sextant")
            func runProcess(_ name: String, _ executable: URL, _ arguments: [String]) async throws -> ManagedProcess {
                let process = try ManagedProcess(
                    name: name, executable: executable, arguments: arguments, directory: fixture.directory)
                try #require(try await process.waitForExit(timeout: .seconds(120)), "\(name) did not finish")
                return process
            }
            var files: [String: String] = [:]
            for format in ["safetensors", "onnx", "npz"] {
                let path = fixture.directory.appendingPathComponent("model.\(format)").path
                let export = try await runProcess(
                    "export-\(format)", sextant, ["checkpoints", "export", fixture.databasePath, "-o", path])
                #expect(export.exitedSuccessfully, "\(export.standardError)")
                files[format] = path
            }
            let rows = try fixture.write(Self.table(rows: 120, seed: 99, missingEvery: 7), to: "raw-rows.csv").path
            let predictions = fixture.directory.appendingPathComponent("predictions.csv").path
            let predict = try await runProcess(
                "predict", sextant,
                ["predict", "--model", files["safetensors"]!, "--data", rows, "--output", predictions])
            try #require(predict.exitedSuccessfully, "\(predict.standardError)")
            let script = IntegrationEnvironment.packageRoot.appendingPathComponent(
                "IntegrationTests/export/check_export.py")
            let check = try await runProcess(
                "check", python,
                [
                    script.path, "check", "--safetensors", files["safetensors"]!, "--onnx", files["onnx"]!, "--npz",
                    files["npz"]!, "--data", rows, "--predictions", predictions, "--tolerance", "1e-5",
                ])
            #expect(check.exitedSuccessfully, "\(check.standardOutput)\n\(check.standardError)")
            #expect(
                check.standardOutput.contains("onnxruntime probabilities match sextant predict"),
                "\(check.standardOutput)")
            // The exported model on fresh rows of the same kind does about as well as the
            // sites' merged evaluation said.
            let accuracy = check.standardOutput.split(separator: "\n")
                .first { $0.hasPrefix("accuracy of the exported model") }
                .flatMap { Double($0.split(separator: " ").last ?? "") }
            let storedAccuracy = try #require(last.metrics["federated_accuracy"])
            #expect(
                accuracy.map { abs($0 - storedAccuracy) < 0.1 } == true,
                "exported \(accuracy ?? -1), stored \(storedAccuracy)")
        }
    }
}
