import Foundation
import GRDB

/// What the server knows about one client of a run. Sendable.
package struct ClientRecord: Sendable, Equatable {
    package var id: String
    /// The identity the transport authenticated (the CURVE key's ZAP User-Id), if any.
    package var authIdentity: String?
    package var displayName: String?
    package var samples: Int
    /// Estimated seconds per local step, as the scheduler last computed it.
    package var speed: Double?
    package var lastSeen: Date
    /// Anything else worth keeping (platform, version, ...), stored as JSON.
    package var fields: [String: String]

    package init(
        id: String, authIdentity: String? = nil, displayName: String? = nil, samples: Int,
        speed: Double? = nil, lastSeen: Date, fields: [String: String] = [:]
    ) {
        self.id = id
        self.authIdentity = authIdentity
        self.displayName = displayName
        self.samples = samples
        self.speed = speed
        self.lastSeen = lastSeen
        self.fields = fields
    }
}

extension ClientRecord {
    static let columns = "id, auth_identity, display_name, samples, speed, last_seen, fields"

    init(row: Row) throws {
        self.init(
            id: try row.decode(forColumn: "id"),
            authIdentity: try row.decode(forColumn: "auth_identity"),
            displayName: try row.decode(forColumn: "display_name"),
            samples: try row.decode(forColumn: "samples"),
            speed: try row.decode(forColumn: "speed"),
            lastSeen: Date(timeIntervalSince1970: try row.decode(forColumn: "last_seen")),
            fields: try StoreJSON.decode([String: String].self, from: try row.decode(forColumn: "fields")))
    }
}
