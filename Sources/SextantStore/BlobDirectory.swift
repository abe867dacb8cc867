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
            try FileCalls.syncDirectory(URL(fileURLWithPath: path).deletingLastPathComponent().path)
            return
        }
        let error = errno
        guard error == EEXIST else { throw failure("create the directory \(path)", error) }
    }

    /// Writes `bytes` to a new file named by their SHA-256 and makes it durable; returns the
    /// SHA-256 (lower-case hex). The bytes are written from `bytes` itself, while another
    /// thread hashes them, so a write costs about as much as the disk's own write and sync.
    func write(_ bytes: UnsafeRawBufferPointer) throws -> String {
        try write([bytes])[0].get()
    }

    /// Writes each buffer to a new file as ``write(_:)-(UnsafeRawBufferPointer)`` does, all
    /// side by side, then syncs the directory once for all of them (a group commit's
    /// files). Returns, in the order given, each file's SHA-256 or why it could not be
    /// written; the directory's sync failing fails them all.
    func write(_ buffers: [UnsafeRawBufferPointer]) -> [Result<String, StoreError>] {
        guard !buffers.isEmpty else { return [] }
        var descriptors: [Int32] = []
        var temporaries: [String] = []
        var openErrors: [Int32] = []
        for _ in buffers {
            let temporary = "\(path)/.incoming-\(UUID().uuidString)"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            temporaries.append(temporary)
            descriptors.append(fd)
            openErrors.append(fd < 0 ? errno : 0)
        }
        // Two tasks per buffer, which nobody changes meanwhile: one hashes it, one writes
        // and syncs it. The buffers travel as their addresses, valid until this call returns.
        let spans = buffers.map { (address: UInt(bitPattern: $0.baseAddress), count: $0.count) }
        let outcome = WriteOutcome(count: buffers.count)
        DispatchQueue.concurrentPerform(iterations: 2 * buffers.count) { [descriptors, openErrors] task in
            let index = task / 2
            let buffer = UnsafeRawBufferPointer(
                start: UnsafeRawPointer(bitPattern: spans[index].address), count: spans[index].count)
            if task % 2 == 0 {
                let sha256 = ParameterBlob.hex(SHA256.hash(data: buffer))
                outcome.state.withLock { $0[index].sha256 = sha256 }
            } else {
                let fd = descriptors[index]
                var error = fd < 0 ? openErrors[index] : Self.writeAll(fd, buffer)
                if error == 0, fdatasync(fd) != 0 { error = errno }
                outcome.state.withLock { $0[index].error = error }
            }
        }
        let written = outcome.state.withLock { $0 }
        var results: [Result<String, StoreError>] = []
        for index in buffers.indices {
            results.append(
                finishFile(
                    temporaries[index], descriptor: descriptors[index], sha256: written[index].sha256,
                    error: written[index].error, byteCount: buffers[index].count))
        }
        do {
            try FileCalls.syncDirectory(path)
        } catch {
            return results.map { _ in .failure(error) }
        }
        return results
    }

    /// Closes a written temporary file and renames it to its SHA-256, or removes it if
    /// its write failed.
    private func finishFile(
        _ temporary: String, descriptor fd: Int32, sha256: String?, error: Int32, byteCount: Int
    ) -> Result<String, StoreError> {
        guard fd >= 0 else { return .failure(failure("create \(temporary)", error)) }
        close(fd)
        guard error == 0, let sha256 else {
            unlink(temporary)
            return .failure(failure("write \(byteCount) bytes to \(temporary)", error))
        }
        guard rename(temporary, filePath(sha256: sha256)) == 0 else {
            let renameError = errno
            unlink(temporary)
            return .failure(failure("rename \(temporary)", renameError))
        }
        return .success(sha256)
    }

    /// The floats of the blob `sha256`, if its file exists, has `count` values and still
    /// hashes to `sha256`; otherwise what is wrong with it.
    func read(sha256: String, count: Int) -> Result<[Float], BlobProblem> {
        readValues(sha256: sha256, count: count).flatMap { values in
            let actual = ParameterBlob.sha256Hex(values)
            guard actual == sha256 else {
                return .failure(
                    BlobProblem("its file \(filePath(sha256: sha256)) hashes to \(actual), not to its name"))
            }
            return .success(values)
        }
    }

    /// The floats of the blob `sha256`, if its file exists and has `count` values, without
    /// checking their hash (for a caller that checks it itself); otherwise what is wrong.
    func readValues(sha256: String, count: Int) -> Result<[Float], BlobProblem> {
        let file = filePath(sha256: sha256)
        let fd: Int32
        switch FileCalls.openForReading(file, named: "its file") {
        case .success(let opened): fd = opened
        case .failure(let problem): return .failure(problem)
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
            readError = FileCalls.readAll(fd, UnsafeMutableRawBufferPointer(buffer), at: 0)
            initialized = count
        }
        guard readError == 0 else {
            return .failure(BlobProblem("cannot read \(file): \(String(cString: strerror(readError)))"))
        }
        return .success(values)
    }

    /// Removes the blobs named in `sha256s`; one already gone is fine. Not synced: a
    /// removal a crash undoes leaves an orphan, which the next ``removeOrphans(keeping:)``
    /// removes.
    func remove(_ sha256s: [String]) {
        for sha256 in sha256s { unlink(filePath(sha256: sha256)) }
    }

    /// Removes every file of the directory that is neither the blob of one of `referenced`
    /// nor one of the delta segments `segments` (blobs whose row never committed,
    /// interrupted writes, segments whose records were all applied); returns how many.
    func removeOrphans(keeping referenced: Set<String>, segments: Set<Int64>) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return 0 }
        var removed = 0
        for name in names {
            let isReferenced =
                name.hasSuffix(".f32") && referenced.contains(String(name.dropLast(4)))
                || DeltaSegments.segmentNumber(fileName: name).map(segments.contains) == true
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

    /// A `StoreError` whose code says what the operator must fix (full disk, read-only, ...).
    private func failure(_ action: String, _ error: Int32) -> StoreError {
        storeFailure(path: path, action, error)
    }
}

/// What the two tasks per file of `BlobDirectory.write` found: each file's hash and its
/// write's errno.
private final class WriteOutcome: Sendable {
    let state: Mutex<[(sha256: String?, error: Int32)]>

    init(count: Int) {
        state = Mutex(Array(repeating: (nil, 0), count: count))
    }
}

/// What is wrong with a blob file, in words for a report. Sendable.
package struct BlobProblem: Error, Sendable, Equatable {
    package var message: String

    init(_ message: String) { self.message = message }
}
