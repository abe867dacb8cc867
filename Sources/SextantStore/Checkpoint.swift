import Foundation
import GRDB

/// The global model after one aggregation event (version 0 is the initial model). Sendable.
package struct Checkpoint: Sendable, Equatable {
    package var run: String
    package var version: Int
    package var created: Date
    /// The flat parameter vector.
    package var parameters: [Float]
    /// Lower-case hex SHA-256 of the parameters' raw little-endian Float32 bytes, as stored.
    package var sha256: String
    /// Evaluation results known at commit time ("accuracy", "loss", ...).
    package var metrics: [String: Double]
    /// The privacy budget spent so far, if the run uses differential privacy.
    package var epsilon: Double?

    package init(
        run: String, version: Int, created: Date, parameters: [Float], sha256: String,
        metrics: [String: Double], epsilon: Double?
    ) {
        self.run = run
        self.version = version
        self.created = created
        self.parameters = parameters
        self.sha256 = sha256
        self.metrics = metrics
        self.epsilon = epsilon
    }
}

extension Checkpoint {
    /// Whether the parameters still hash to the SHA-256 stored when they were committed:
    /// check it wherever a checkpoint is used (docs/design.md 10).
    package var isSound: Bool { ParameterBlob.sha256Hex(parameters) == sha256 }

    static let columns = "run, version, created, parameters, count, sha256, metrics, epsilon"

    /// Decodes a row of `columns`: the parameters from its blob without an intermediate
    /// copy, or, when the row holds none, from their file in `blobs` (docs/design.md 6).
    /// Their hash is not checked here: ``isSound`` does that where the checkpoint is used.
    init(row: Row, blobs: BlobDirectory) throws {
        let run: String = try row.decode(forColumn: "run")
        let version: Int = try row.decode(forColumn: "version")
        let count: Int = try row.decode(forColumn: "count")
        let sha256: String = try row.decode(forColumn: "sha256")
        let inline = try row.withUnsafeData(named: "parameters") { blob -> [Float]? in
            guard let blob else { return nil }
            guard blob.count == count * MemoryLayout<Float>.size else {
                throw StoreError(
                    code: .invalidData,
                    "checkpoint \(run)@\(version) records \(count) parameters but holds \(blob.count) bytes")
            }
            return try ParameterBlob.decode(blob)
        }
        let parameters: [Float]
        if let inline {
            parameters = inline
        } else {
            switch blobs.readValues(sha256: sha256, count: count) {
            case .success(let values):
                parameters = values
            case .failure(let problem):
                throw StoreError(
                    code: .invalidData,
                    "checkpoint \(run)@\(version) cannot be read: \(problem.message) (run `sextant checkpoints verify` for the rest)"
                )
            }
        }
        self.init(
            run: run,
            version: version,
            created: Date(timeIntervalSince1970: try row.decode(forColumn: "created")),
            parameters: parameters,
            sha256: sha256,
            metrics: try StoreJSON.decode([String: Double].self, from: try row.decode(forColumn: "metrics")),
            epsilon: try row.decode(Double?.self, forColumn: "epsilon"))
    }
}
