import Foundation
import Logging
import Testing

@testable import SextantStore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One test's federation: a fresh directory for its configuration, logs and database, a
/// free loopback port, and every process it started, all killed by ``tearDown()``.
final class FederationFixture {
    let directory: URL
    let port: Int
    private(set) var processes: [ManagedProcess] = []
    private var store: CheckpointStore?

    init(name: String) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sextant-it-\(name)-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        databaseDirectory = directory
        port = try Self.freeLoopbackPort()
    }

    var endpoint: String { "tcp://127.0.0.1:\(port)" }
    /// Where the database goes: the fixture's directory unless a test mounts a file system for it.
    var databaseDirectory: URL
    var databasePath: String { databaseDirectory.appendingPathComponent("checkpoints.sqlite").path }

    /// A configuration with this fixture's port, database and the dataset.
    func configuration(name: String) -> TestConfiguration {
        TestConfiguration(
            name: name, dataDirectory: IntegrationEnvironment.datasetDirectory.path, bind: endpoint,
            database: databasePath)
    }

    /// Writes `text` to `<directory>/<file>` and returns its URL.
    @discardableResult
    func write(_ text: String, to file: String = "federation.yaml") throws -> URL {
        let url = directory.appendingPathComponent(file)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    // MARK: - Processes

    func start(_ name: String, executable: String, arguments: [String]) throws -> ManagedProcess {
        let process = try ManagedProcess(
            name: name, executable: try IntegrationEnvironment.executable(executable), arguments: arguments,
            directory: directory)
        processes.append(process)
        return process
    }

    func startServer(config: URL, name: String = "server") throws -> ManagedProcess {
        try start(name, executable: "sextant-server", arguments: ["--config", config.path, "--log-level", "info"])
    }

    /// Starts client `index` (named client-INDEX); `processName` tells apart the logs of
    /// several processes of one client, started one after another.
    func startClient(config: URL, index: Int, timePerStep: Double? = nil, processName: String? = nil) throws
        -> ManagedProcess
    {
        var arguments = ["--config", config.path, "--index", "\(index)", "--server", endpoint]
        if let timePerStep { arguments += ["--time-per-step", "\(timePerStep)"] }
        return try start(processName ?? "client-\(index)", executable: "sextant-client", arguments: arguments)
    }

    /// Kills whatever still runs (SIGKILL: a test that failed must not leave a server
    /// holding its port), closes the store and removes the directory.
    func tearDown() {
        for process in processes where process.isRunning {
            process.send(SIGKILL)
        }
        for process in processes {
            process.process.waitUntilExit()
        }
        try? store?.close()
        store = nil
        if IntegrationEnvironment.keepsTemporaryFiles {
            print("kept \(directory.path)")
        } else {
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// The tails of every process's output, to explain a failure.
    func diagnostics() -> String {
        "files in \(directory.path) (SEXTANT_KEEP_TEMP=1 keeps them)\n"
            + processes.map { $0.tail() }.joined(separator: "\n")
    }

    // MARK: - Waiting

    /// Polls `condition` until it holds (true) or `timeout` passes (false).
    func wait(
        timeout: Duration, every interval: Duration = .milliseconds(100), until condition: () throws -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            if try condition() { return true }
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: interval)
        }
    }

    /// Waits for the first line of `process`'s standard error that contains `text`.
    func waitForLogLine(_ process: ManagedProcess, containing text: String, timeout: Duration) async throws
        -> Substring?
    {
        var found: Substring?
        _ = try await wait(timeout: timeout) {
            found = LogLines.first(in: process.standardError, containing: text)
            return found != nil || !process.isRunning
        }
        return found ?? LogLines.first(in: process.standardError, containing: text)
    }

    // MARK: - The checkpoint database

    /// Changes one checkpoint's row in place with the server stopped (`assignment` is an SQL
    /// SET clause), as a fault would leave it: a damaged blob, a kill between two commits.
    func alterCheckpoint(set assignment: String, run: String, version: Int) async throws {
        try await openStore().pool.write { db in
            try db.execute(
                sql: "UPDATE checkpoints SET \(assignment) WHERE run = ? AND version = ?", arguments: [run, version])
        }
    }

    /// The server's database, opened once it exists (opening creates a missing file, which
    /// would race with the server creating it). Safe while the server writes: WAL.
    func openStore() throws -> CheckpointStore {
        if let store { return store }
        try #require(FileManager.default.fileExists(atPath: databasePath), "no database at \(databasePath)")
        let opened = try CheckpointStore(
            path: databasePath,
            logger: Logger(label: "sextant.integration-tests", factory: { _ in SwiftLogNoOpLogHandler() }))
        store = opened
        return opened
    }

    /// The latest checkpoint version of the latest run, or nil before the server made one.
    func latestVersion() throws -> Int? {
        guard FileManager.default.fileExists(atPath: databasePath) else { return nil }
        let store = try openStore()
        guard let run = try store.latestRun() else { return nil }
        return try store.checkpointVersions(run: run.id).last
    }

    // MARK: - Ports

    /// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's choice for port 0).
    static func freeLoopbackPort() throws -> Int {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        try #require(fd >= 0, "socket() failed: errno \(errno)")
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(bound == 0, "bind() failed: errno \(errno)")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        try #require(named == 0, "getsockname() failed: errno \(errno)")
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Reading swift-log's text lines, e.g.
/// `2026-01-01T00:00:00+0000 info sextant.server: accuracy=0.79 ... version=9 [SextantRuntime] aggregated`.
enum LogLines {
    static func all(in text: String, containing needle: String) -> [Substring] {
        text.split(separator: "\n").filter { $0.contains(needle) }
    }

    static func first(in text: String, containing needle: String) -> Substring? {
        text.split(separator: "\n").first { $0.contains(needle) }
    }

    /// The value of metadata `key` in a log line (values without spaces only).
    static func value(of key: String, in line: Substring) -> String? {
        for token in line.split(separator: " ") where token.hasPrefix("\(key)=") {
            return String(token.dropFirst(key.count + 1))
        }
        return nil
    }
}
