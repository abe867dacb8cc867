import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A child process whose standard output and error go to files, so a test can read the
/// logs while it runs and after it ends.
final class ManagedProcess {
    let name: String
    let process = Process()
    let standardOutputURL: URL
    let standardErrorURL: URL

    /// Starts `executable` with `arguments`; output goes to `<directory>/<name>.out` and `.err`.
    init(name: String, executable: URL, arguments: [String], directory: URL) throws {
        self.name = name
        standardOutputURL = directory.appendingPathComponent("\(name).out")
        standardErrorURL = directory.appendingPathComponent("\(name).err")
        _ = FileManager.default.createFile(atPath: standardOutputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: standardErrorURL.path, contents: nil)
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        // Several processes share 2 cores: one BLAS thread each.
        environment["OPENBLAS_NUM_THREADS"] = "1"
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: standardOutputURL)
        process.standardError = try FileHandle(forWritingTo: standardErrorURL)
        try process.run()
    }

    var isRunning: Bool { process.isRunning }
    var processIdentifier: Int32 { process.processIdentifier }

    /// Whether it exited on its own with status 0.
    var exitedSuccessfully: Bool {
        !process.isRunning && process.terminationReason == .exit && process.terminationStatus == 0
    }

    /// "running", "exit status N" or "killed by signal N".
    var statusDescription: String {
        if process.isRunning { return "running" }
        switch process.terminationReason {
        case .exit: return "exit status \(process.terminationStatus)"
        case .uncaughtSignal: return "killed by signal \(process.terminationStatus)"
        @unknown default: return "ended (\(process.terminationStatus))"
        }
    }

    var standardOutput: String { Self.read(standardOutputURL) }
    var standardError: String { Self.read(standardErrorURL) }

    /// Sends `signal` if the process still runs.
    func send(_ signal: Int32) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, signal)
    }

    /// Waits until the process ends or `timeout` passes; returns whether it ended.
    @discardableResult
    func waitForExit(timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(50))
        }
        // Foundation sets the termination status on its own thread; let it land.
        process.waitUntilExit()
        return true
    }

    /// The last `lines` lines of both streams, for failure messages.
    func tail(lines: Int = 25) -> String {
        func last(_ text: String) -> String {
            text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
        }
        return
            "--- \(name) (\(statusDescription)) stderr:\n\(last(standardError))\n--- \(name) stdout:\n\(last(standardOutput))"
    }

    private static func read(_ url: URL) -> String {
        guard let data = FileManager.default.contents(atPath: url.path) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }
}
