import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The system calls the files beside the database share (`BlobDirectory`, `DeltaSegments`).
enum FileCalls {
    /// Reads `bytes.count` bytes from byte `offset` on; returns 0 or the errno (EIO at an
    /// early end of file).
    static func readAll(_ fd: Int32, _ bytes: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int32 {
        var done = 0
        while done < bytes.count {
            let got = pread(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if got < 0 {
                if errno == EINTR { continue }
                return errno
            }
            if got == 0 { return EIO }
            done += got
        }
        return 0
    }

    /// Opens `file` for reading, or says in words that it is missing or cannot be opened
    /// (`name` is how a report calls it: "its file", "its segment").
    static func openForReading(_ file: String, named name: String) -> Result<Int32, BlobProblem> {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd < 0 else { return .success(fd) }
        let error = errno
        return .failure(
            BlobProblem(
                error == ENOENT
                    ? "\(name) \(file) is missing" : "cannot open \(file): \(String(cString: strerror(error)))"))
    }

    /// Makes the directory's entries durable (fsync of the directory).
    static func syncDirectory(_ directory: String) throws(StoreError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw storeFailure(path: directory, "open the directory", errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw storeFailure(path: directory, "sync the directory", errno) }
    }
}

/// A `StoreError` for a failed system call on a file beside the database, with a code that
/// says what the operator must fix (full disk, read-only, ...).
func storeFailure(path: String, _ action: String, _ error: Int32) -> StoreError {
    let code: StoreError.Code
    switch error {
    case ENOSPC, EDQUOT, EFBIG: code = .diskFull
    case EROFS: code = .readOnly
    case EACCES, EPERM: code = .cannotOpen
    default: code = .ioFailure
    }
    return StoreError(code: code, "\(path): could not \(action): \(String(cString: strerror(error)))")
}
