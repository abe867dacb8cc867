import ArgumentParser
import Foundation
import SextantML

/// `sextant predict --model FILE.safetensors --data FILE.csv [--output preds.csv]`.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict with an exported model on the raw rows of a CSV file.",
        discussion: """
            Reads a model written by `sextant checkpoints export --format safetensors`, applies the \\
            preprocessing stored with it to each raw row (columns found by name; others, such as the \\
            label or an identifier, ignored) and writes one line per row: the prediction, then one \\
            probability column per class name (classification), or the predicted values (regression).
            """)

    @Option(help: "A model exported as safetensors by sextant checkpoints export.") var model: String
    @Option(help: "A CSV file with a header row and one record per line.") var data: String
    @Option(name: .shortAndLong, help: "Where to write the predictions (default: standard output).")
    var output: String?

    func run() throws {
        let exported = try ExportedModel(safeTensors: SafeTensors.read(from: URL(fileURLWithPath: model)))
        let predictor = try Predictor(model: exported)
        let (features, rows) = try Self.readFeatures(data, pipeline: exported.pipeline)
        let outputs = predictor.outputs(features: features, rows: rows)
        var text = predictor.columnNames.map(Self.quoted).joined(separator: ",") + "\n"
        let width = predictor.width
        let labels = exported.classNames
        for row in 0..<rows {
            let values = outputs[(row * width)..<((row + 1) * width)]
            let numbers = values.map { "\($0)" }
            if labels.isEmpty {
                text += numbers.joined(separator: ",") + "\n"
            } else {
                text += ([Self.quoted(labels[Predictor.label(of: values)])] + numbers).joined(separator: ",") + "\n"
            }
        }
        if let output {
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
            } catch {
                throw SextantMLError(code: .fileNotFound, "\(output): cannot write: \(error.localizedDescription)")
            }
            FileHandle.standardError.write(Data("wrote \(rows) predictions to \(output)\n".utf8))
        } else {
            print(text, terminator: "")
        }
    }

    /// The model inputs of every row of the CSV file `path`, read as RFC 4180 (``CSVParser``);
    /// turning fields into features is ``FeaturePipeline/RowEncoder``'s.
    static func readFeatures(_ path: String, pipeline: FeaturePipeline) throws -> ([Float], Int) {
        let parser = try CSVParser(contentsOf: URL(fileURLWithPath: path))
        let encoder = try FeaturePipeline.RowEncoder(pipeline: pipeline, header: parser.header, file: path)
        var features: [Float] = []
        let columns = parser.header.count
        let rows = try parser.forEachRecord { record in
            let fields = (0..<columns).map { Substring(record.text($0)) }
            try encoder.encode(fields, row: record.row, into: &features)
        }
        return (features, rows)
    }

    static func quoted(_ field: String) -> String {
        field.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline })
            ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
    }
}
