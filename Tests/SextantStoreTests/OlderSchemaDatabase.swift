import GRDB

@testable import SextantStore

/// A database migrated only up to `step`, holding run `run-1` (100 parameters), in which a
/// migration test writes what that older schema stored; the caller closes it.
func olderSchemaDatabase(at path: String, upTo step: String) throws -> DatabaseQueue {
    let queue = try DatabaseQueue(path: path)
    try StoreSchema.migrator.migrate(queue, upTo: step)
    try queue.write { db in
        try db.execute(
            sql: """
                INSERT INTO runs (id, config, fingerprint, parameter_count, started, status)
                VALUES ('run-1', '', 'f', 100, 0, 'running')
                """)
    }
    return queue
}
