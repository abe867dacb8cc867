import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Ways to make the server's database unwritable in the middle of a run, and to undo them.
///
/// Tests run as root (here and in CI), so taking write permission away stops nothing.
/// A small tmpfs holding the database can be filled for real, where mounting is permitted
/// (CAP_SYS_ADMIN); otherwise the server's file-size limit (RLIMIT_FSIZE) is lowered to the
/// size its database files have, so the next write that grows one fails with EFBIG.
enum StorageFault {
    /// Whether this process may mount a tmpfs (tried once, on a scratch directory).
    static let canMountTmpfs: Bool = {
        guard let scratch = try? TmpfsMount.scratchDirectory() else { return false }
        defer { try? FileManager.default.removeItem(at: scratch) }
        guard let mount = try? TmpfsMount(at: scratch, bytes: 1 << 20) else { return false }
        mount.unmount()
        return true
    }()

    /// Lowers the file-size limit of process `pid` to `bytes`, with util-linux's `prlimit`
    /// (Glibc's prlimit(2) wrapper is a GNU extension Swift does not see); root may do it to
    /// any process. Processes started later keep their own limits.
    static func limitFileSize(ofProcess pid: Int32, to bytes: Int) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
        process.arguments = ["--pid", "\(pid)", "--fsize=\(bytes):\(bytes)"]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TmpfsMount.SystemError(call: "prlimit --pid \(pid) --fsize=\(bytes)", errno: EPERM)
        }
    }

    /// The size of the largest of the database's files (the database, -wal, -shm).
    static func largestDatabaseFile(_ databasePath: String) -> Int {
        ["", "-wal", "-shm"].map { suffix in
            (try? FileManager.default.attributesOfItem(atPath: databasePath + suffix)[.size] as? Int) ?? 0
        }.max() ?? 0
    }
}

/// A tmpfs of a fixed size mounted on a directory, which a filler file can fill.
final class TmpfsMount {
    let directory: URL
    private var mounted = true

    struct SystemError: Error, CustomStringConvertible {
        var call: String
        var errno: Int32
        var description: String { "\(call) failed: \(String(cString: strerror(errno)))" }
    }

    static func scratchDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sextant-tmpfs-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Mounts a tmpfs of `bytes` on `directory` (created if missing).
    init(at directory: URL, bytes: Int) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.directory = directory
        #if canImport(Glibc)
            guard Glibc.mount("tmpfs", directory.path, "tmpfs", 0, "size=\(bytes),mode=0700") == 0 else {
                throw SystemError(call: "mount tmpfs on \(directory.path)", errno: errno)
            }
        #else
            throw SystemError(call: "mount", errno: ENOSYS)
        #endif
    }

    deinit { unmount() }

    private var fillerPath: String { directory.appendingPathComponent("filler").path }

    /// Writes a file until the file system reports ENOSPC; returns the bytes written.
    @discardableResult
    func fill() throws -> Int {
        let fd = open(fillerPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard fd >= 0 else { throw SystemError(call: "open \(fillerPath)", errno: errno) }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0xA5, count: 64 * 1024)
        var total = 0
        var size = chunk.count
        while size > 0 {
            let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, size) }
            if written > 0 {
                total += written
            } else if errno == ENOSPC {
                // Smaller writes take the last partial chunk, so not even a page is left.
                size /= 2
            } else if errno != EINTR {
                throw SystemError(call: "write \(fillerPath)", errno: errno)
            }
        }
        return total
    }

    /// Removes the filler file: the space is free again.
    func free() throws {
        try FileManager.default.removeItem(atPath: fillerPath)
    }

    /// Detaches the mount even if files on it are still open (the test's own store).
    func unmount() {
        guard mounted else { return }
        mounted = false
        #if canImport(Glibc)
            _ = umount2(directory.path, Int32(MNT_DETACH))
        #endif
    }
}
