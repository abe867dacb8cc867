import Crypto
import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Large parameter blobs kept as files beside the database, in `<database>.blobs/`
/// (docs/design.md 6). Each file is named by the SHA-256 of its bytes, written once
/// straight from the caller's buffer while those bytes are hashed on another thread, and
/// made durable (file, then directory) before the row that refers to it commits: a row
/// never names a file a crash could lose. Sendable: it holds only its path.
package struct BlobDirectory: Sendable {
    /// The directory's path: the database's path with `.blobs` appended.
    package let path: String

    package init(databasePath: String) {
        path = databasePath + ".blobs"
    }

    /// The path of the blob whose SHA-256 is `sha256`.
    package func filePath(sha256: String) -> String {
        "\(path)/\(sha256).f32"
    }

    /// Creates the directory (mode 0700) if it does not exist, and makes its entry durable.
    func create() throws {
        if mkdir(path, 0o700) == 0 {
            try syncDirectory(URL(fileURLWithPath: path).deletingLastPathComponent().path)
            return
        }
        let error = errno
        guard error == EEXIST else { throw failure("create the directory \(path)", error) }
    }

    /// Writes `bytes` to a new file named by their SHA-256 and makes it durable; returns the
    /// SHA-256 (lower-case hex). The bytes are written from `bytes` itself, while another
    /// thread hashes them, so a write costs about as much as the disk's own write and sync.
    func write(_ bytes: UnsafeRawBufferPointer) throws -> String {
        let temporary = "\(path)/.incoming-\(UUID().uuidString)"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("create \(temporary)", errno) }
        // Two tasks on one buffer that neither changes: one hashes, one writes and syncs.
        // The buffer travels as its address, valid until this call returns.
        let address = UInt(bitPattern: bytes.baseAddress)
        let count = bytes.count
        let outcome = WriteOutcome()
        DispatchQueue.concurrentPerform(iterations: 2) { task in
            let buffer = UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: address), count: count)
            if task == 0 {
                let sha256 = ParameterBlob.hex(SHA256.hash(data: buffer))
                outcome.state.withLock { $0.sha256 = sha256 }
            } else {
                var error = Self.writeAll(fd, buffer)
                if error == 0, fdatasync(fd) != 0 { error = errno }
                outcome.state.withLock { $0.error = error }
            }
        }
        close(fd)
        let (hashed, writeError) = outcome.state.withLock { ($0.sha256, $0.error) }
        guard writeError == 0, let sha256 = hashed else {
            unlink(temporary)
            throw failure("write \(bytes.count) bytes to \(temporary)", writeError)
        }
        guard rename(temporary, filePath(sha256: sha256)) == 0 else {
            let error = errno
            unlink(temporary)
            throw failure("rename \(temporary)", error)
        }
        try syncDirectory(path)
        return sha256
    }

    /// The floats of the blob `sha256`, if its file exists, has `count` values and still
    /// hashes to `sha256`; otherwise what is wrong with it.
    func read(sha256: String, count: Int) -> Result<[Float], BlobProblem> {
        let file = filePath(sha256: sha256)
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let error = errno
            return .failure(
                BlobProblem(
                    error == ENOENT
                        ? "its file \(file) is missing" : "cannot open \(file): \(String(cString: strerror(error)))"))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failure(BlobProblem("cannot read \(file)")) }
        let expected = count * MemoryLayout<Float>.size
        guard Int(info.st_size) == expected else {
            return .failure(BlobProblem("its file \(file) has \(info.st_size) bytes, \(count) values need \(expected)"))
        }
        var readError: Int32 = 0
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            readError = Self.readAll(fd, UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
        guard readError == 0 else {
            return .failure(BlobProblem("cannot read \(file): \(String(cString: strerror(readError)))"))
        }
        let actual = ParameterBlob.sha256Hex(values)
        guard actual == sha256 else {
            return .failure(BlobProblem("its file \(file) hashes to \(actual), not to its name"))
        }
        return .success(values)
    }

    /// Removes the blobs named in `sha256s`; one already gone is fine. Not synced: a
    /// removal a crash undoes leaves an orphan, which the next ``removeOrphans(keeping:)``
    /// removes.
    func remove(_ sha256s: [String]) {
        for sha256 in sha256s { unlink(filePath(sha256: sha256)) }
    }

    /// Removes every file of the directory that is not the blob of one of `referenced`
    /// (blobs whose row never committed, interrupted writes); returns how many.
    func removeOrphans(keeping referenced: Set<String>) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return 0 }
        var removed = 0
        for name in names {
            let isReferenced = name.hasSuffix(".f32") && referenced.contains(String(name.dropLast(4)))
            if !isReferenced, unlink("\(path)/\(name)") == 0 { removed += 1 }
        }
        return removed
    }

    // MARK: - System calls

    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += written
        }
        return 0
    }

    private static func readAll(_ fd: Int32, _ bytes: UnsafeMutableRawBufferPointer) -> Int32 {
        var offset = 0
        while offset < bytes.count {
            let got = Glibc.read(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if got < 0 {
                if errno == EINTR { continue }
                return errno
            }
            if got == 0 { return EIO }
            offset += got
        }
        return 0
    }

    private func syncDirectory(_ directory: String) throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open the directory \(directory)", errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("sync the directory \(directory)", errno) }
    }

    /// A `StoreError` whose code says what the operator must fix (full disk, read-only, ...).
    private func failure(_ action: String, _ error: Int32) -> StoreError {
        let code: StoreError.Code
        switch error {
        case ENOSPC, EDQUOT, EFBIG: code = .diskFull
        case EROFS: code = .readOnly
        case EACCES, EPERM: code = .cannotOpen
        default: code = .ioFailure
        }
        return StoreError(code: code, "\(path): could not \(action): \(String(cString: strerror(error)))")
    }
}

/// What the two tasks of `BlobDirectory.write` found: the hash and the write's errno.
private final class WriteOutcome: Sendable {
    let state = Mutex<(sha256: String?, error: Int32)>((nil, 0))
}

/// What is wrong with a blob file, in words for a report. Sendable.
package struct BlobProblem: Error, Sendable, Equatable {
    package var message: String

    init(_ message: String) { self.message = message }
}
