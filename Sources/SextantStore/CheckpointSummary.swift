import Foundation
import GRDB

/// A checkpoint without its parameters, for listings (`sextant checkpoints list`). Sendable.
package struct CheckpointSummary: Sendable, Equatable {
    package var run: String
    package var version: Int
    package var created: Date
    package var parameterCount: Int
    /// Size of the stored parameters in bytes (in SQLite or in their file).
    package var byteSize: Int
    package var sha256: String
    package var metrics: [String: Double]
    package var epsilon: Double?

    /// `metrics["accuracy"]`, the column most listings show.
    package var accuracy: Double? { metrics["accuracy"] }
}

extension CheckpointSummary {
    static let columns =
        "run, version, created, count, count * 4 AS bytes, sha256, metrics, epsilon"

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
