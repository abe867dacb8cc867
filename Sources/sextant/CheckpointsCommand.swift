import ArgumentParser
import Foundation
import Logging
import SextantML
import SextantONNX
import SextantRuntime
import SextantStore

/// `sextant checkpoints list|export|verify DB`.
struct CheckpointsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoints", abstract: "Inspect, export and verify a server's checkpoint database.",
        subcommands: [List.self, Export.self, Verify.self])

    /// Opens `path` read-only: listing, exporting and verifying never write to the database
    /// (docs/design.md 10), so they work on a read-only copy.
    static func open(_ path: String) throws -> CheckpointStore {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(code: .cannotOpen, "\(path): no such checkpoint database")
        }
        var logger = Logger(label: "sextant.checkpoints")
        logger.logLevel = .warning
        return try CheckpointStore(path: path, logger: logger, mode: .readOnly)
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the runs and their checkpoints.")
        @Argument(help: "The checkpoint database.") var database: String

        func run() throws {
            let store = try CheckpointsCommand.open(database)
            for run in try store.runs() {
                print("run \(run.id)  status \(run.status.rawValue)  model \(run.fingerprint)  started \(run.started)")
                print("  version  created                    accuracy    loss   updates")
                for summary in try store.checkpointSummaries(run: run.id) {
                    let accuracy = summary.metrics["accuracy"].map { String(format: "%7.2f%%", $0 * 100) } ?? "       -"
                    let loss = summary.metrics["loss"].map { String(format: "%7.4f", $0) } ?? "      -"
                    let updates = summary.metrics["updates"].map { String(Int($0)) } ?? "-"
                    print(
                        String(
                            format: "  %7d  %@  %@  %@  %6@", summary.version, "\(summary.created)" as NSString,
                            accuracy as NSString, loss as NSString, updates as NSString)
                            + Self.federated(summary.metrics))
                }
            }
        }

        /// `  federated: accuracy 0.9780  balanced_accuracy 0.9750 ... (3 sites, 91 records)`, or
        /// nothing for a checkpoint without a federated evaluation.
        static func federated(_ metrics: [String: Double]) -> String {
            let prefix = "federated_"
            let values = metrics.filter {
                $0.key.hasPrefix(prefix) && !["federated_sites", "federated_records"].contains($0.key)
            }
            guard !values.isEmpty else { return "" }
            let text = values.sorted { $0.key < $1.key }
                .map { "\($0.key.dropFirst(prefix.count)) \(String(format: "%.4f", $0.value))" }.joined(separator: "  ")
            let sites = metrics["federated_sites"].map { String(Int($0)) } ?? "?"
            let records = metrics["federated_records"].map { String(Int($0)) } ?? "?"
            return "  federated: \(text) (\(sites) sites, \(records) records)"
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a checkpoint's model to a file.",
            discussion: """
                safetensors: the tensors of the equivalent PyTorch nn.Sequential, with the model, the \
                preprocessing, the task and the class names as metadata; onnx: the same model with its \
                preprocessing and head inside (opset 17), for onnxruntime; npz: the tensors for np.load; \
                sextant: Sextant's own model file. The format defaults to the output file's extension \
                (.safetensors, .onnx, .npz), else sextant. See docs/design.md 11.
                """)
        /// The export formats.
        enum Format: String, ExpressibleByArgument, CaseIterable {
            case safetensors, onnx, npz, sextant
        }

        @Argument(help: "The checkpoint database.") var database: String
        @Option(parsing: .unconditional, help: "Version to export (default: the latest).") var version: Int?
        @Option(name: .customLong("run"), help: "Run id (default: the latest run).") var runID: String?
        @Option(name: .shortAndLong, help: "Output model file.") var output: String
        @Option(help: "safetensors, onnx, npz or sextant (default: from the output's extension).")
        var format: Format?

        func validate() throws {
            if let version, version < 0 {
                throw StoreError(
                    code: .notFound,
                    "--version \(version): versions start at 0; give 0 or more, or leave it out for the latest")
            }
        }

        func run() throws {
            let store = try CheckpointsCommand.open(database)
            guard let runID = try runID ?? store.latestRun()?.id else {
                throw StoreError(code: .notFound, "\(database): holds no run")
            }
            let url = URL(fileURLWithPath: output)
            let format = format ?? Format(rawValue: url.pathExtension.lowercased()) ?? .sextant
            guard format != .sextant else {
                let file = try store.export(run: runID, version: version, to: url)
                print("wrote \(output): run \(runID), version \(file.version), \(file.parameters.count) parameters")
                return
            }
            let (run, checkpoint) = try store.checkpointForExport(run: runID, version: version)
            let model = try RunModel.exportedModel(
                run: run, checkpoint: checkpoint,
                storedPipeline: try store.schedulerState(run: run.id)[RunModel.preprocessingKey])
            switch format {
            case .safetensors: try model.safeTensors().write(to: url)
            case .npz: try model.numPyArchive().write(to: url)
            case .onnx: try ONNXExporter.write(model, to: url)
            case .sextant: break
            }
            print(
                "wrote \(output) (\(format.rawValue)): run \(runID), version \(checkpoint.version), \(checkpoint.parameters.count) parameters"
            )
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check SQLite integrity and every checkpoint's SHA-256.")
        @Argument(help: "The checkpoint database.") var database: String

        func run() throws {
            let store = try CheckpointsCommand.open(database)
            let report = try store.verify()
            print(report)
            if !report.isOK { throw ExitCode.failure }
        }
    }
}
