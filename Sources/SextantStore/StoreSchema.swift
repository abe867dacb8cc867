import GRDB

/// The database schema as a list of named migrations. Never edit a registered migration:
/// add a new one, so that databases written by older builds upgrade in place.
enum StoreSchema {
    /// Written to the SQLite header (`PRAGMA application_id`), "SXTN", so that Sextant
    /// refuses to migrate some other application's database.
    static let applicationID: Int32 = 0x5358_544E

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-initial-schema", migrate: createInitialSchema)
        migrator.registerMigration("v2-update-files", migrate: createUpdateFiles)
        migrator.registerMigration("v3-checkpoint-files", migrate: allowCheckpointFiles)
        migrator.registerMigration("v4-update-segments", migrate: createUpdateSegments)
        return migrator
    }

    /// Times are REAL Unix seconds; JSON columns hold UTF-8 text.
    private static func createInitialSchema(_ db: Database) throws {
        try db.execute(sql: "PRAGMA application_id = \(applicationID)")
        try db.execute(
            sql: """
                CREATE TABLE runs (
                    id TEXT PRIMARY KEY NOT NULL,
                    config TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    parameter_count INTEGER NOT NULL CHECK (parameter_count >= 0),
                    started REAL NOT NULL,
                    status TEXT NOT NULL
                        CHECK (status IN ('running', 'completed', 'failed', 'stopped')),
                    finished REAL
                );
                CREATE TABLE checkpoints (
                    run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    version INTEGER NOT NULL CHECK (version >= 0),
                    created REAL NOT NULL,
                    parameters BLOB NOT NULL,
                    count INTEGER NOT NULL CHECK (count * 4 = length(parameters)),
                    dtype TEXT NOT NULL DEFAULT 'f32' CHECK (dtype = 'f32'),
                    sha256 TEXT NOT NULL,
                    metrics TEXT NOT NULL DEFAULT '{}',
                    epsilon REAL,
                    PRIMARY KEY (run, version)
                );
                CREATE TABLE updates (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    client TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    base_version INTEGER NOT NULL,
                    applied_version INTEGER,
                    staleness INTEGER,
                    steps INTEGER NOT NULL,
                    compute_seconds REAL NOT NULL,
                    samples INTEGER NOT NULL,
                    norm_before REAL,
                    norm_after REAL,
                    received REAL NOT NULL,
                    state TEXT NOT NULL DEFAULT 'buffered'
                        CHECK (state IN ('buffered', 'applied', 'discarded')),
                    UNIQUE (run, client, sequence)
                );
                CREATE INDEX updates_by_state ON updates(run, state);
                CREATE TABLE buffered_updates (
                    update_id INTEGER PRIMARY KEY NOT NULL
                        REFERENCES updates(id) ON DELETE CASCADE,
                    count INTEGER NOT NULL CHECK (count * 4 = length(delta)),
                    delta BLOB NOT NULL
                );
                CREATE TABLE clients (
                    run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    id TEXT NOT NULL,
                    auth_identity TEXT,
                    display_name TEXT,
                    samples INTEGER NOT NULL DEFAULT 0,
                    speed REAL,
                    last_seen REAL NOT NULL,
                    fields TEXT NOT NULL DEFAULT '{}',
                    PRIMARY KEY (run, id)
                );
                CREATE TABLE scheduler_state (
                    run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    key TEXT NOT NULL,
                    value BLOB NOT NULL,
                    updated REAL NOT NULL,
                    PRIMARY KEY (run, key)
                );
                """)
    }

    /// Large deltas live in files beside the database (`BlobDirectory`), named and checked
    /// by their SHA-256; this table refers to them. Older databases keep their
    /// `buffered_updates` rows, which are read as before.
    private static func createUpdateFiles(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE update_files (
                    update_id INTEGER PRIMARY KEY NOT NULL
                        REFERENCES updates(id) ON DELETE CASCADE,
                    count INTEGER NOT NULL CHECK (count >= 0),
                    sha256 TEXT NOT NULL
                );
                CREATE INDEX update_files_by_hash ON update_files(sha256);
                """)
    }

    /// Large checkpoints live in files beside the database too, named by the SHA-256 the row
    /// records: `parameters` is NULL for them (docs/design.md 6). SQLite cannot relax a
    /// CHECK in place, so the table is rebuilt; rows of older databases keep their blobs,
    /// which are read as before. The blob becomes the last column, so that reading the
    /// others (the hash, the metrics) never walks its overflow pages, and an index on the
    /// hash finds the rows that name a file.
    private static func allowCheckpointFiles(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE new_checkpoints (
                    run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    version INTEGER NOT NULL CHECK (version >= 0),
                    created REAL NOT NULL,
                    count INTEGER NOT NULL CHECK (count >= 0),
                    dtype TEXT NOT NULL DEFAULT 'f32' CHECK (dtype = 'f32'),
                    sha256 TEXT NOT NULL,
                    metrics TEXT NOT NULL DEFAULT '{}',
                    epsilon REAL,
                    parameters BLOB,
                    CHECK (parameters IS NULL OR count * 4 = length(parameters)),
                    PRIMARY KEY (run, version)
                );
                INSERT INTO new_checkpoints
                    (run, version, created, count, dtype, sha256, metrics, epsilon, parameters)
                SELECT run, version, created, count, dtype, sha256, metrics, epsilon, parameters
                FROM checkpoints;
                DROP TABLE checkpoints;
                ALTER TABLE new_checkpoints RENAME TO checkpoints;
                CREATE INDEX checkpoints_by_hash ON checkpoints(sha256);
                """)
    }

    /// Deltas under the file threshold are appended to segment files beside the database
    /// (`DeltaSegments`); this table says where each is, with the CRC-32C of its bytes.
    /// Older databases keep their `buffered_updates` rows, which are read as before.
    private static func createUpdateSegments(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE update_segments (
                    update_id INTEGER PRIMARY KEY NOT NULL
                        REFERENCES updates(id) ON DELETE CASCADE,
                    segment INTEGER NOT NULL CHECK (segment > 0),
                    offset INTEGER NOT NULL CHECK (offset >= 0),
                    count INTEGER NOT NULL CHECK (count >= 0),
                    crc32c INTEGER NOT NULL
                );
                CREATE INDEX update_segments_by_segment ON update_segments(segment);
                """)
    }
}
