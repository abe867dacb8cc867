import Foundation
import GRDB
import Logging
import Synchronization

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
package final class CheckpointStore: Sendable {
    /// How a store is opened (docs/design.md 10).
    package enum OpenMode: Sendable {
        /// The server's mode: creates the file and its tables, migrates, writes.
        case readWrite
        /// For tools that only look (`sextant checkpoints`, `sextant-audit run`): nothing is
        /// created, migrated or written, not even WAL set-up, so a copy on read-only media
        /// works and a file that is not a Sextant database stays as it was. Writes throw
        /// `.readOnly`.
        case readOnly
    }

    /// The database file's path.
    package let path: String
    let pool: any DatabaseWriter
    let logger: Logger
    let clock: @Sendable () -> Date
    let mode: OpenMode
    /// Device and inode of the database and its -wal file as opened: a write that finds
    /// either gone or different fails with `.fileReplaced` instead of being acknowledged.
    let openedFiles: Mutex<[String: FileIdentity]>
    /// Where deltas and checkpoints of at least `fileThreshold` bytes are stored (docs/design.md 6).
    package let blobs: BlobDirectory
    /// Where deltas are appended (docs/design.md 6).
    package let segments: DeltaSegments
    /// Checkpoints this large or larger go to a file of their own in `blobs`, smaller ones
    /// into SQLite. Deltas, of any size, are appended to `segments`.
    package let fileThreshold: Int

    /// The default `fileThreshold`, 2 MiB. A checkpoint's SQLite blob goes through the WAL
    /// and is copied again into the database at the next WAL checkpoint; a file beside the
    /// database is written once but costs three syncs (file, directory, the row's commit)
    /// instead of one. In two runs of `sextant bench durable` on this project's host the file
    /// was 1.9-2.9 times faster at 40 MB, as fast or faster at 4 MB, and either could win at
    /// 0.8 MB (docs/design.md 6).
    package static let defaultFileThreshold = 2 << 20

    /// SQLite's page size for a new database: 64 KiB instead of SQLite's 4 KiB, so that a
    /// 0.8 MB delta stored as a blob is written in 13 pages rather than 200 (each page a
    /// `pwrite` to the WAL, and again to the database at the WAL checkpoint). In a FedAvg
    /// round of 16 clients with 0.8 MB deltas, `bench/round-timeline --page-size 65536`
    /// stored the round's updates in 23-29 ms against 81-115 ms with 4 KiB pages and 59-66
    /// ms with every delta a file (`--file-threshold 0`), interleaved (docs/design.md 6).
    /// A database keeps the page size it was created with (WAL mode cannot change it).
    package static let newDatabasePageSize = 65_536

    /// Opens the database at `path`, creating it (mode 0600) and its tables if needed, or
    /// with `mode: .readOnly` opening an existing one without writing anything.
    ///
    /// Throws `StoreError` if the file is not a SQLite database, belongs to another
    /// application, is damaged, or was written by a newer Sextant.
    /// - Parameters:
    ///   - clock: the time recorded in rows; tests and simulations pass their own.
    ///   - fileThreshold: checkpoints of at least this many bytes are stored as files of
    ///     their own beside the database; `Int.max` keeps every checkpoint in SQLite.
    package init(
        path: String, logger: Logger, mode: OpenMode = .readWrite,
        fileThreshold: Int = CheckpointStore.defaultFileThreshold,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        self.path = path
        self.logger = logger
        self.clock = clock
        self.mode = mode
        self.fileThreshold = fileThreshold
        blobs = BlobDirectory(databasePath: path)
        segments = DeltaSegments(path: blobs.path)
        openedFiles = Mutex([:])
        if mode == .readOnly {
            pool = try Self.openReadOnly(path: path)
            logger.debug("opened checkpoint store read-only", metadata: ["path": "\(path)"])
            return
        }
        try Self.createPrivateFile(at: path, logger: logger)
        try Self.setPageSizeIfEmpty(path: path)

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
            // Freed pages are not zeroed as they are freed (some builds of SQLite, Debian's
            // among them, do it by default): a round frees its deltas' pages and the next
            // round's deltas take them again, so zeroing them first wrote every delta twice.
            // `scrubFreePages` zeroes them once, when the server ends (docs/design.md 6).
            try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA secure_delete = FAST") }
            try pool.read { db in try Self.checkOwnership(db, path: path) }
            try StoreSchema.migrator.migrate(pool)
            try blobs.create()
        } catch {
            try? pool.close()
            throw StoreError(wrapping: error, path: path, action: "prepare the database")
        }
        openedFiles.withLock { opened in
            for file in [path, path + "-wal"] { opened[file] = FileIdentity(path: file) }
        }
        logger.debug("opened checkpoint store", metadata: ["path": "\(path)"])
    }

    /// Closes the database. Later calls throw. Optional: the store also closes on deinit.
    ///
    /// Checkpoints the WAL into the main file first, so that the closed database is one
    /// self-contained file that can be copied (GRDB closes its writer before its
    /// read-only readers, and those cannot checkpoint), with its `.blobs` directory while
    /// large updates wait to be applied (docs/design.md 6).
    package func close() throws {
        do {
            if mode == .readWrite { _ = try pool.writeWithoutTransaction { try $0.checkpoint(.truncate) } }
            try pool.close()
        } catch {
            throw StoreError(wrapping: error, path: path, action: "close the database")
        }
    }

    /// Removes the blob files no row refers to (written for an update or a checkpoint whose
    /// row never committed, or left behind when a crash interrupted a removal) and returns how many.
    /// Only the server calls it, when it starts and before it records anything: a file is
    /// written before the row that names it, so another process that opens the database
    /// while a server runs must not call it.
    @discardableResult
    package func removeOrphanBlobs() throws -> Int {
        let referenced = try read("list the blob files rows refer to") { db in
            Set(
                try String.fetchAll(
                    db,
                    sql: "SELECT sha256 FROM update_files UNION SELECT sha256 FROM checkpoints WHERE parameters IS NULL"
                ))
        }
        let segmentsInUse = try read("list the delta segments rows refer to") { db in
            Set(try Int64.fetchAll(db, sql: "SELECT DISTINCT segment FROM update_segments"))
        }
        let removed = blobs.removeOrphans(keeping: referenced, segments: segmentsInUse)
        if removed > 0 {
            logger.info(
                "removed blob files no row refers to", metadata: ["path": "\(blobs.path)", "count": "\(removed)"])
        }
        return removed
    }

    // MARK: - Access with error mapping

    /// Runs `body` in one write transaction; any error rolls it back entirely. Then checks
    /// that the files written are still the ones opened: what a caller acknowledges after
    /// this returns is in the database that a restart will read.
    func write<T>(_ action: String, _ body: (Database) throws -> T) throws -> T {
        let result: T
        do {
            result = try pool.write(body)
        } catch {
            throw StoreError(wrapping: error, path: path, action: action)
        }
        try checkFilesAreTheOnesOpened(while: action)
        return result
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

    /// Opens an existing database for reading only, after checking that the file is one
    /// (an empty or foreign file is named as what it is, untouched). A database with no
    /// -wal or -shm beside it (closed, or a copy) is opened immutable, so SQLite needs no
    /// lock and no shared-memory file and works on read-only media; one with them (a server
    /// may be running) is opened read-only, reading what its WAL holds.
    private static func openReadOnly(path: String) throws -> DatabaseQueue {
        try checkHeader(of: path)
        var configuration = Configuration()
        configuration.readonly = true
        configuration.foreignKeysEnabled = true
        configuration.label = "SextantStore.readOnly"
        configuration.busyMode = .timeout(5)
        let companions = ["-wal", "-shm"].contains { FileManager.default.fileExists(atPath: path + $0) }
        let target = companions ? path : immutableURI(path)
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: target, configuration: configuration)
        } catch {
            throw StoreError(wrapping: error, path: path, action: "open the database read-only")
        }
        do {
            try queue.read { db in
                try checkOwnership(db, path: path)
                guard try Int32.fetchOne(db, sql: "PRAGMA application_id") == StoreSchema.applicationID else {
                    throw StoreError(
                        code: .foreignDatabase,
                        "\(path): a SQLite database without Sextant's tables, not a Sextant database")
                }
                guard try StoreSchema.migrator.completedMigrations(db).count == StoreSchema.migrator.migrations.count
                else {
                    throw StoreError(
                        code: .invalidData,
                        "\(path): was written by an older Sextant; open it once with sextant-server (read-write) to upgrade it, or read it with that version"
                    )
                }
            }
        } catch {
            try? queue.close()
            throw StoreError(wrapping: error, path: path, action: "read the database")
        }
        return queue
    }

    /// Refuses, without opening it, a path that is missing, empty or not SQLite.
    private static func checkHeader(of path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file"
            throw StoreError(code: .cannotOpen, "\(path): \(reason), not a Sextant database")
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        if header.isEmpty {
            throw StoreError(code: .notADatabase, "\(path): empty file, not a Sextant database")
        }
        guard header == Data("SQLite format 3\0".utf8) else {
            throw StoreError(code: .notADatabase, "\(path): not a SQLite database, so not a Sextant database")
        }
    }

    /// `file:` URI of `path` with SQLite's `immutable` parameter: no locks, no -shm, no writes.
    private static func immutableURI(_ path: String) -> String {
        let absolute = URL(fileURLWithPath: path).path
        var escaped = ""
        for character in absolute {
            switch character {
            case "%": escaped += "%25"
            case "?": escaped += "%3F"
            case "#": escaped += "%23"
            default: escaped.append(character)
            }
        }
        return "file:\(escaped)?immutable=1"
    }

    /// Throws `.fileReplaced` if the database or its -wal file is no longer the file opened.
    ///
    /// A removed or replaced -wal still holds, through SQLite's open descriptor, every commit
    /// since the last checkpoint, acknowledged updates among them: while the database file
    /// itself is the one opened, they are first copied into it by a checkpoint, so that even a
    /// `kill -9` right after loses nothing that was acknowledged.
    private func checkFilesAreTheOnesOpened(while action: String) throws {
        let changed: [String: String] = openedFiles.withLock { opened in
            var changed: [String: String] = [:]
            for file in [path, path + "-wal"] {
                let now = FileIdentity(path: file)
                guard let then = opened[file] else {
                    opened[file] = now  // first seen now (the WAL appears with the first write)
                    continue
                }
                if now != then { changed[file] = now == nil ? "was removed" : "was replaced by another file" }
            }
            return changed
        }
        guard !changed.isEmpty else { return }
        var rescue = ""
        if changed[path] == nil {
            do {
                _ = try pool.writeWithoutTransaction { try $0.checkpoint(.full) }
                rescue = "; every commit it held was first copied into \(path)"
            } catch {
                rescue = "; copying its commits into \(path) failed (\(error)), so the latest may be lost"
            }
        }
        let what = changed.keys.sorted().map { "\($0) \(changed[$0]!)" }.joined(separator: " and ")
        throw StoreError(
            code: .fileReplaced,
            "\(path): could not \(action): \(what) while the database was open\(rescue). Nothing more is acknowledged: find what removes files under the server, then start it again (it resumes from what \(path) holds)"
        )
    }

    /// Gives a database file that is still empty (new, or created by a start that went no
    /// further) ``newDatabasePageSize`` and WAL mode, which writes its header and fixes the
    /// page size for good. A file with content keeps its own.
    private static func setPageSizeIfEmpty(path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0, info.st_size == 0 else { return }
        do {
            let queue = try DatabaseQueue(path: path)
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA page_size = \(newDatabasePageSize)")
                try db.execute(sql: "PRAGMA journal_mode = WAL")
            }
            try queue.close()
        } catch {
            throw StoreError(wrapping: error, path: path, action: "create the database")
        }
    }

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

/// The device and inode of a file, to tell a file from another put at the same path.
struct FileIdentity: Equatable, Sendable {
    var device: UInt64
    var inode: UInt64

    /// The identity of the file at `path`, or nil if there is none.
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}

/// The C `close`, which the store's own `close()` hides inside its methods.
private func systemClose(_ fd: Int32) -> Int32 {
    close(fd)
}
