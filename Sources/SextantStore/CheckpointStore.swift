import Foundation
import GRDB
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The server's SQLite database of runs, checkpoints, updates, clients and scheduler state
/// (docs/design.md 6). Sendable: it wraps a GRDB `DatabasePool` in WAL mode, so readers
/// (listings, the audit) never block the writer.
///
/// Every method is synchronous and may block on disk I/O: call it from a dedicated thread
/// or an actor that owns the store, not from the cooperative pool in a hot loop. Every
/// failure is thrown as a `StoreError` naming the file.
public final class CheckpointStore: Sendable {
    /// The database file's path.
    public let path: String
    let pool: DatabasePool
    let logger: Logger
    let clock: @Sendable () -> Date

    /// Opens the database at `path`, creating it (mode 0600) and its tables if needed.
    ///
    /// Throws `StoreError` if the file is not a SQLite database, belongs to another
    /// application, is damaged, or was written by a newer Sextant.
    /// - Parameter clock: the time recorded in rows; tests and simulations pass their own.
    public init(
        path: String, logger: Logger, clock: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        self.path = path
        self.logger = logger
        self.clock = clock
        try Self.createPrivateFile(at: path, logger: logger)

        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.label = "SextantStore"
        // Another process (the audit, a listing) may hold a lock briefly: wait, don't fail.
        configuration.busyMode = .timeout(5)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw StoreError(wrapping: error, path: path, action: "open the database")
        }
        do {
            // GRDB picks synchronous=NORMAL for WAL, which can lose the last commits on
            // power loss; an acknowledged update must survive that, so fsync every commit.
            try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
            try pool.read { db in try Self.checkOwnership(db, path: path) }
            try StoreSchema.migrator.migrate(pool)
        } catch {
            try? pool.close()
            throw StoreError(wrapping: error, path: path, action: "prepare the database")
        }
        logger.debug("opened checkpoint store", metadata: ["path": "\(path)"])
    }

    /// Closes the database. Later calls throw. Optional: the store also closes on deinit.
    ///
    /// Checkpoints the WAL into the main file first, so that the closed database is one
    /// self-contained file that can be copied (GRDB closes its writer before its
    /// read-only readers, and those cannot checkpoint).
    public func close() throws {
        do {
            _ = try pool.writeWithoutTransaction { try $0.checkpoint(.truncate) }
            try pool.close()
        } catch {
            throw StoreError(wrapping: error, path: path, action: "close the database")
        }
    }

    // MARK: - Access with error mapping

    /// Runs `body` in one write transaction; any error rolls it back entirely.
    func write<T>(_ action: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.write(body)
        } catch {
            throw StoreError(wrapping: error, path: path, action: action)
        }
    }

    /// Runs `body` on a consistent snapshot of the database.
    func read<T>(_ action: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch {
            throw StoreError(wrapping: error, path: path, action: action)
        }
    }

    var now: Double { clock().timeIntervalSince1970 }

    // MARK: - Opening

    /// Creates the file with mode 0600 before SQLite does, so it is never readable by
    /// others; SQLite gives its -wal and -shm files the database file's mode.
    private static func createPrivateFile(at path: String, logger: Logger) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 {
            _ = systemClose(fd)
            return
        }
        let error = errno
        guard error == EEXIST else {
            throw StoreError(
                code: .cannotOpen,
                "\(path): could not create the database: \(String(cString: strerror(error)))")
        }
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
            logger.warning(
                "checkpoint database is readable by other users; consider chmod 600",
                metadata: ["path": "\(path)", "mode": "\(String(info.st_mode & 0o777, radix: 8))"])
        }
    }

    /// Refuses databases that are not ours or that a newer build has migrated.
    private static func checkOwnership(_ db: Database, path: String) throws {
        let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        let migrator = StoreSchema.migrator
        if applicationID == 0 {
            // A new, empty file is fine; a database with tables but no id is someone else's.
            let tableCount =
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table'") ?? 0
            if tableCount > 0 {
                throw StoreError(
                    code: .foreignDatabase,
                    "\(path): is a SQLite database, but not a Sextant checkpoint database")
            }
            return
        }
        guard applicationID == StoreSchema.applicationID else {
            throw StoreError(
                code: .foreignDatabase,
                "\(path): is a SQLite database of another application (application_id \(applicationID))")
        }
        if try migrator.hasBeenSuperseded(db) {
            let unknown = try migrator.appliedIdentifiers(db)
                .subtracting(try migrator.appliedMigrations(db)).sorted()
            throw StoreError(
                code: .newerSchema,
                "\(path): was written by a newer Sextant (unknown migrations: \(unknown.joined(separator: ", "))); upgrade Sextant to open it"
            )
        }
    }
}

/// The C `close`, which the store's own `close()` hides inside its methods.
private func systemClose(_ fd: Int32) -> Int32 {
    close(fd)
}
