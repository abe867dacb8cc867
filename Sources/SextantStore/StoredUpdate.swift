import Foundation
import GRDB

/// An update as recorded in the store. Sendable.
package struct StoredUpdate: Sendable, Equatable {
    package enum State: String, Sendable, CaseIterable {
        /// Acknowledged, waiting to be aggregated; its delta is kept if one was given.
        case buffered
        /// Included in the aggregation that produced `appliedVersion`.
        case applied
        /// Dropped without being applied (rejected late, client removed, ...).
        case discarded
    }

    package var id: Int64
    package var run: String
    package var client: String
    package var sequence: Int
    package var baseVersion: Int
    package var appliedVersion: Int?
    package var staleness: Int?
    package var steps: Int
    package var computeSeconds: Double
    package var samples: Int
    package var normBefore: Double?
    package var normAfter: Double?
    package var received: Date
    package var state: State
    /// The buffered delta; nil once applied or discarded, or when none was stored.
    package var delta: [Float]?
}

extension StoredUpdate {
    static let columns = """
        u.id, u.run, u.client, u.sequence, u.base_version, u.applied_version, u.staleness,
        u.steps, u.compute_seconds, u.samples, u.norm_before, u.norm_after, u.received, u.state
        """

    init(row: Row, delta: [Float]?) throws {
        let stateText: String = try row.decode(forColumn: "state")
        guard let state = State(rawValue: stateText) else {
            throw StoreError(code: .invalidData, "update has unknown state '\(stateText)'")
        }
        self.init(
            id: try row.decode(forColumn: "id"),
            run: try row.decode(forColumn: "run"),
            client: try row.decode(forColumn: "client"),
            sequence: try row.decode(forColumn: "sequence"),
            baseVersion: try row.decode(forColumn: "base_version"),
            appliedVersion: try row.decode(forColumn: "applied_version"),
            staleness: try row.decode(forColumn: "staleness"),
            steps: try row.decode(forColumn: "steps"),
            computeSeconds: try row.decode(forColumn: "compute_seconds"),
            samples: try row.decode(forColumn: "samples"),
            normBefore: try row.decode(forColumn: "norm_before"),
            normAfter: try row.decode(forColumn: "norm_after"),
            received: Date(timeIntervalSince1970: try row.decode(forColumn: "received")),
            state: state,
            delta: delta)
    }
}
