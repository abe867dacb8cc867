import Foundation
import GRDB

/// A checkpoint without its parameters, for listings (`sextant checkpoints list`). Sendable.
public struct CheckpointSummary: Sendable, Equatable {
    public var run: String
    public var version: Int
    public var created: Date
    public var parameterCount: Int
    /// Size of the stored parameter blob in bytes.
    public var byteSize: Int
    public var sha256: String
    public var metrics: [String: Double]
    public var epsilon: Double?

    /// `metrics["accuracy"]`, the column most listings show.
    public var accuracy: Double? { metrics["accuracy"] }
}

extension CheckpointSummary {
    static let columns =
        "run, version, created, count, length(parameters) AS bytes, sha256, metrics, epsilon"

    init(row: Row) throws {
        self.init(
            run: try row.decode(forColumn: "run"),
            version: try row.decode(forColumn: "version"),
            created: Date(timeIntervalSince1970: try row.decode(forColumn: "created")),
            parameterCount: try row.decode(forColumn: "count"),
            byteSize: try row.decode(forColumn: "bytes"),
            sha256: try row.decode(forColumn: "sha256"),
            metrics: try StoreJSON.decode([String: Double].self, from: try row.decode(forColumn: "metrics")),
            epsilon: try row.decode(Double?.self, forColumn: "epsilon"))
    }
}
