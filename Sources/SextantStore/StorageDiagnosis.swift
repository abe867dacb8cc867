import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why writes to a database may be failing, read from the system after a write failed.
///
/// SQLite reports a full disk as `SQLITE_FULL` but a write past the process's file-size
/// limit (RLIMIT_FSIZE, `ulimit -f`: EFBIG) only as a "disk I/O error", and a file system
/// remounted read-only as either. An operator needs the cause to fix it, so the server adds
/// this to the error it stops with. Sendable.
package struct StorageDiagnosis: Sendable, Equatable, CustomStringConvertible {
    /// The directory holding the database and its -wal and -shm files.
    package var directory: String
    /// Bytes an unprivileged writer may still use on that file system (nil: unknown).
    package var availableBytes: Int?
    /// Whether the file system is mounted read-only.
    package var isReadOnly: Bool
    /// The process's file-size limit in bytes (nil: unlimited).
    package var fileSizeLimit: Int?
    /// The largest of the database's files and its size, for comparison with the limit.
    package var largestFile: String?
    package var largestFileSize: Int

    /// Below this, free space counts as exhausted: SQLite writes pages of up to 64 KiB and a
    /// checkpoint of a model may need megabytes.
    package static let lowSpace = 1 << 20

    package init(
        directory: String, availableBytes: Int?, isReadOnly: Bool, fileSizeLimit: Int?, largestFile: String?,
        largestFileSize: Int
    ) {
        self.directory = directory
        self.availableBytes = availableBytes
        self.isReadOnly = isReadOnly
        self.fileSizeLimit = fileSizeLimit
        self.largestFile = largestFile
        self.largestFileSize = largestFileSize
    }

    /// Reads the file system and the process's limit for the database at `databasePath`.
    package init(databasePath: String) {
        let url = URL(fileURLWithPath: databasePath)
        let directory = url.deletingLastPathComponent().path
        var available: Int?
        var readOnly = false
        var info = statvfs()
        if statvfs(directory, &info) == 0 {
            available = Int(info.f_bavail) * Int(info.f_frsize)
            readOnly = info.f_flag & UInt(ST_RDONLY) != 0
        }
        var limit: Int?
        var current = rlimit()
        #if canImport(Glibc)
            let resource = __rlimit_resource_t(RLIMIT_FSIZE.rawValue)
        #else
            let resource = RLIMIT_FSIZE
        #endif
        if getrlimit(resource, &current) == 0, current.rlim_cur != rlim_t.max {  // RLIM_INFINITY is all ones
            limit = Int(clamping: current.rlim_cur)
        }
        var largest: (name: String, size: Int)?
        for suffix in ["", "-wal", "-shm"] {
            var status = stat()
            let path = databasePath + suffix
            guard stat(path, &status) == 0 else { continue }
            let size = Int(status.st_size)
            if size > (largest?.size ?? -1) { largest = (url.lastPathComponent + suffix, size) }
        }
        self.init(
            directory: directory, availableBytes: available, isReadOnly: readOnly, fileSizeLimit: limit,
            largestFile: largest?.name, largestFileSize: largest?.size ?? 0)
    }

    /// The likely cause, worst first; nil when nothing looks wrong.
    package var cause: String? {
        if isReadOnly {
            return "the file system holding \(directory) is mounted read-only"
        }
        if let availableBytes, availableBytes < Self.lowSpace {
            return "the file system holding \(directory) is full (\(availableBytes) bytes free)"
        }
        // A write that would cross the limit fails, so a file within a page of it has hit it.
        if let fileSizeLimit, largestFileSize + 65_536 >= fileSizeLimit {
            return
                "\(largestFile ?? "a database file") has reached the process's file-size limit of \(fileSizeLimit) bytes (RLIMIT_FSIZE, `ulimit -f`)"
        }
        return nil
    }

    package var description: String {
        if let cause { return cause }
        let free = availableBytes.map { "\($0 / 1_048_576) MiB free" } ?? "unknown free space"
        let limit = fileSizeLimit.map { "a file-size limit of \($0) bytes" } ?? "no file-size limit"
        return "no cause found: \(directory) has \(free) and the process has \(limit)"
    }
}
