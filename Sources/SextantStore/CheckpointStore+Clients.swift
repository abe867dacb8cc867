import GRDB

extension CheckpointStore {
    /// Inserts or replaces what the server knows about a client of a run.
    package func upsertClient(run: String, _ client: ClientRecord) throws {
        try write("save client '\(client.id)' of run '\(run)'") { db in
            try db.execute(
                sql: """
                    INSERT INTO clients
                        (run, id, auth_identity, display_name, samples, speed, last_seen, fields)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (run, id) DO UPDATE SET
                        auth_identity = excluded.auth_identity,
                        display_name = excluded.display_name,
                        samples = excluded.samples,
                        speed = excluded.speed,
                        last_seen = excluded.last_seen,
                        fields = excluded.fields
                    """,
                arguments: [
                    run, client.id, client.authIdentity, client.displayName, client.samples,
                    client.speed, client.lastSeen.timeIntervalSince1970,
                    try StoreJSON.encode(client.fields),
                ])
        }
    }

    /// The clients of a run, by id.
    package func clients(run: String) throws -> [ClientRecord] {
        try read("read clients of run '\(run)'") { db in
            try Row.fetchAll(
                db, sql: "SELECT \(ClientRecord.columns) FROM clients WHERE run = ? ORDER BY id",
                arguments: [run]
            ).map(ClientRecord.init(row:))
        }
    }
}
