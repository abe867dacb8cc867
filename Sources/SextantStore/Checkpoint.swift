import Foundation
import GRDB

/// The global model after one aggregation event (version 0 is the initial model). Sendable.
public struct Checkpoint: Sendable, Equatable {
    public var run: String
    public var version: Int
    public var created: Date
    /// The flat parameter vector.
    public var parameters: [Float]
    /// Lower-case hex SHA-256 of the parameters' raw little-endian Float32 bytes, as stored.
    public var sha256: String
    /// Evaluation results known at commit time ("accuracy", "loss", ...).
    public var metrics: [String: Double]
    /// The privacy budget spent so far, if the run uses differential privacy.
    public var epsilon: Double?

    public init(
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

    /// Decodes a row of `columns`; the blob is read without an intermediate copy.
    init(row: Row) throws {
        let run: String = try row.decode(forColumn: "run")
        let version: Int = try row.decode(forColumn: "version")
        let count: Int = try row.decode(forColumn: "count")
        let parameters = try row.withUnsafeData(named: "parameters") { blob in
            let blob = blob ?? Data()
            guard blob.count == count * MemoryLayout<Float>.size else {
                throw StoreError(
                    code: .invalidData,
                    "checkpoint \(run)@\(version) records \(count) parameters but holds \(blob.count) bytes")
            }
            return try ParameterBlob.decode(blob)
        }
        self.init(
            run: run,
            version: version,
            created: Date(timeIntervalSince1970: try row.decode(forColumn: "created")),
            parameters: parameters,
            sha256: try row.decode(forColumn: "sha256"),
            metrics: try StoreJSON.decode([String: Double].self, from: try row.decode(forColumn: "metrics")),
            epsilon: try row.decode(Double?.self, forColumn: "epsilon"))
    }
}
