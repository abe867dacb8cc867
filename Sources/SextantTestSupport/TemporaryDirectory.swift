import Foundation

/// A fresh, uniquely named directory under the system's temporary directory, removed
/// when the value is released (or earlier, with ``remove()``).
///
/// ```swift
/// let directory = try TemporaryDirectory()
/// let file = directory.url(for: "data.csv")
/// ```
package final class TemporaryDirectory: Sendable {
    package let url: URL

    /// Creates the directory; `prefix` makes leftovers of a crashed run recognisable.
    package init(prefix: String = "sextant-tests") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        remove()
    }

    /// The path of `name` inside the directory (nothing is created).
    package func url(for name: String) -> URL {
        url.appendingPathComponent(name)
    }

    /// Writes `bytes` to `name` inside the directory and returns its URL.
    @discardableResult
    package func write(_ bytes: [UInt8], to name: String) throws -> URL {
        let file = url(for: name)
        try Data(bytes).write(to: file)
        return file
    }

    /// Writes `script` to `name` inside the directory as an executable (mode 0755) and
    /// returns its URL. The file is opened close-on-exec: tests run in parallel threads, and
    /// a child another test starts while this file is open for writing must not keep that
    /// descriptor, or executing the script fails with "Text file busy" (ETXTBSY).
    @discardableResult
    package func writeExecutable(_ script: String, to name: String) throws -> URL {
        let file = url(for: name)
        let descriptor = open(file.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        guard descriptor >= 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path])
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        try handle.write(contentsOf: Data(script.utf8))
        try handle.close()
        return file
    }

    /// Removes the directory and everything in it (idempotent).
    package func remove() {
        try? FileManager.default.removeItem(at: url)
    }

    /// Runs `body` with a fresh directory that is removed afterwards, whatever happens.
    package static func with<T>(prefix: String = "sextant-tests", _ body: (URL) throws -> T) throws -> T {
        let directory = try TemporaryDirectory(prefix: prefix)
        defer { directory.remove() }
        return try body(directory.url)
    }
}
