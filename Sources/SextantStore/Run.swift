import Foundation
import GRDB

/// One training run: the configuration it started with and where it stands. Sendable.
package struct Run: Sendable, Equatable {
    package enum Status: String, Sendable, CaseIterable {
        case running, completed, failed, stopped
    }

    package var id: String
    /// The configuration as given (YAML or JSON text), kept for reproducibility.
    package var config: String
    /// Identifies the model architecture; a client with another fingerprint is refused.
    package var fingerprint: String
    package var parameterCount: Int
    package var started: Date
    package var status: Status
    package var finished: Date?

    package init(
        id: String, config: String, fingerprint: String, parameterCount: Int,
        started: Date, status: Status, finished: Date? = nil
    ) {
        self.id = id
        self.config = config
        self.fingerprint = fingerprint
        self.parameterCount = parameterCount
        self.started = started
        self.status = status
        self.finished = finished
    }
}

extension Run {
    static let columns = "id, config, fingerprint, parameter_count, started, status, finished"

    init(row: Row) throws {
        let statusText: String = try row.decode(forColumn: "status")
        guard let status = Status(rawValue: statusText) else {
            throw StoreError(code: .invalidData, "run has unknown status '\(statusText)'")
        }
        self.init(
            id: try row.decode(forColumn: "id"),
            config: try row.decode(forColumn: "config"),
            fingerprint: try row.decode(forColumn: "fingerprint"),
            parameterCount: try row.decode(forColumn: "parameter_count"),
            started: Date(timeIntervalSince1970: try row.decode(forColumn: "started")),
            status: status,
            finished: (try row.decode(Double?.self, forColumn: "finished"))
                .map(Date.init(timeIntervalSince1970:)))
    }
}
