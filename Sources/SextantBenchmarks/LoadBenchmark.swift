import Dispatch
import Foundation
import Logging
import SextantRuntime
import SextantStore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `sextant bench load`: one server and N clients on this host (K client sessions per
/// process, real TCP on loopback), FedAvg over all N for a number of aggregations, with a
/// tiny model (logreg on a Fashion-MNIST slice) so that clients cost little. Measures the
/// server from outside (wait4: peak memory, CPU time) and from its database (time between
/// aggregations), for each client count in turn. Sendable.
package struct LoadBenchmark: Sendable {
    package struct Configuration: Sendable {
        package var clientCounts: [Int] = [50, 100, 200, 500]
        package var versions = 20
        package var sessionsPerProcess = 50
        package var samplesPerClient = 100
        package var localSteps = 5
        /// The model every client trains (`logreg`, 7,850 parameters; `mlp-large`, 10.2M).
        package var model = "logreg"
        /// server.max_concurrent_uploads.
        package var uploadSlots = 4
        package var binDirectory: URL
        package var outputDirectory: URL
        package var dataDirectory: String?
        /// Seconds one client count may take before it counts as failed.
        package var timeout: Double = 1_800
        /// Clients that train nothing: each sends one delta made before the run, from a
        /// thread of this process (``PremadeDeltaClient``), so the rate measured is the
        /// server's rather than that of the clients training on the same cores.
        package var premadeDeltas = false

        package init(binDirectory: URL, outputDirectory: URL) {
            self.binDirectory = binDirectory
            self.outputDirectory = outputDirectory
        }
    }

    /// What one client count measured.
    package struct Result: Sendable, Codable {
        package var clients: Int
        package var processes: Int
        package var versions: Int
        /// Updates the server stored (acknowledged), and of them applied to a version.
        package var updatesStored: Int
        package var updatesApplied: Int
        /// Peak resident memory over the server's life (wait4), which its start-up (reading
        /// the test set) may dominate; its resident memory when it began serving; and the
        /// largest resident memory sampled (every 20 ms) while it served.
        package var serverPeakMemoryBytes: Int
        package var serverResidentAtServingBytes: Int
        package var serverPeakResidentServingBytes: Int
        /// Server CPU (user + system) from start to exit, and from serving to exit.
        package var serverCPUSeconds: Double
        package var serverCPUSecondsServing: Double
        /// Serving CPU time over the updates stored.
        package var serverCPUMillisecondsPerUpdate: Double
        /// Server seconds from start to version 1 (client start-up and joins included).
        package var secondsToFirstVersion: Double
        /// Median and largest seconds between consecutive versions after the first.
        package var medianSecondsPerAggregation: Double
        package var maxSecondsPerAggregation: Double
        /// Median server time inside one aggregation (apply, evaluate, commit), in ms.
        package var medianAggregateMilliseconds: Double
        package var clientCPUSeconds: Double
        package var wallSeconds: Double
        package var finalAccuracy: Double?
        /// Updates applied per second of server time between the first and the last version.
        package var updatesPerSecond: Double
        /// Empty when every process exited 0, every session finished and every version is stored.
        package var problems: [String]
    }

    package var configuration: Configuration
    package var logger: Logger

    package init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    package func validate() throws {
        let c = configuration
        guard !c.clientCounts.isEmpty, c.clientCounts.allSatisfy({ $0 > 0 }) else {
            throw RuntimeError(.invalidConfiguration, "--clients needs positive client counts")
        }
        guard c.versions >= 2, c.sessionsPerProcess > 0, c.samplesPerClient > 0, c.localSteps > 0, c.uploadSlots > 0
        else {
            throw RuntimeError(.invalidConfiguration, "--versions must be at least 2 and the other counts positive")
        }
        let most = c.clientCounts.max()! * c.samplesPerClient
        guard most <= 60_000 else {
            throw RuntimeError(
                .invalidConfiguration,
                "\(c.clientCounts.max()!) clients x \(c.samplesPerClient) samples exceed Fashion-MNIST's 60 000 training images"
            )
        }
        for name in ["sextant-server", "sextant-client"] {
            _ = try RuntimeError.executable(name, in: c.binDirectory)
        }
    }

    /// Runs every client count in turn; `progress` hears of each result as it comes.
    package func run(progress: (Result) -> Void = { _ in }) throws -> [Result] {
        try validate()
        return try configuration.clientCounts.map { count in
            let result = try measure(clients: count)
            progress(result)
            return result
        }
    }

    func measure(clients count: Int) throws -> Result {
        let c = configuration
        let directory = c.outputDirectory.appendingPathComponent("clients-\(count)", isDirectory: true)
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let endpoint = "tcp://127.0.0.1:\(try Self.freeLoopbackPort())"
        let database = directory.appendingPathComponent("checkpoints.sqlite").path
        let config = directory.appendingPathComponent("load.yaml")
        try yaml(clients: count, endpoint: endpoint, database: database).write(
            to: config, atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        // Every process shares 2 cores with hundreds of clients: one BLAS thread each.
        environment["OPENBLAS_NUM_THREADS"] = "1"
        let started = Date()
        logger.info("starting", metadata: ["clients": "\(count)", "directory": "\(directory.path)"])

        let serverLog = directory.appendingPathComponent("server.log").path
        let server = try SpawnedProcess(
            name: "server", executable: c.binDirectory.appendingPathComponent("sextant-server").path,
            arguments: ["--config", config.path, "--log-level", "info"], environment: environment,
            output: directory.appendingPathComponent("server.out").path, error: serverLog)
        var clients: [SpawnedProcess] = []
        defer {
            // A failed measurement must not leave processes behind.
            for process in clients + [server] where process.isRunning {
                process.send(SIGKILL)
                _ = process.wait(timeout: 5)
            }
        }
        var problems: [String] = []
        guard Self.waitForLine(containing: " serving", in: serverLog, while: server, timeout: 60) else {
            throw RuntimeError(.storage, "the server did not start; see \(serverLog)")
        }
        let cpuAtServing = server.cpuSecondsSoFar() ?? 0
        let residentAtServing = server.residentBytes() ?? 0
        let ownCPUAtStart = Self.ownCPUSeconds()
        let premade = c.premadeDeltas ? try startPremadeClients(count, endpoint: endpoint, serverLog: serverLog) : nil
        for first in stride(from: 0, to: c.premadeDeltas ? 0 : count, by: c.sessionsPerProcess) {
            let sessions = min(c.sessionsPerProcess, count - first)
            clients.append(
                try SpawnedProcess(
                    name: "clients-\(first)", executable: c.binDirectory.appendingPathComponent("sextant-client").path,
                    arguments: [
                        "--config", config.path, "--index", "\(first)", "--sessions", "\(sessions)", "--server",
                        endpoint,
                        "--log-level", "notice",
                    ],
                    environment: environment, output: directory.appendingPathComponent("clients-\(first).out").path,
                    error: directory.appendingPathComponent("clients-\(first).log").path))
        }
        if !server.wait(timeout: c.timeout) {
            problems.append("the server did not finish within \(Int(c.timeout)) s")
            server.send(SIGTERM)
            _ = server.wait(timeout: 30)
        }
        if !server.succeeded { problems.append("server: \(server.statusDescription)") }
        for client in clients {
            // Clients leave on the server's goodbye; give them a moment, then stop them.
            if !client.wait(timeout: 30) {
                client.send(SIGTERM)
                _ = client.wait(timeout: 10)
            }
            if !client.succeeded { problems.append("\(client.name): \(client.statusDescription)") }
        }
        var finished = clients.map {
            Self.countLines(containing: ": done after", in: directory.appendingPathComponent("\($0.name).out").path)
        }
        .reduce(0, +)
        var clientCPU = clients.map(\.cpuSeconds).reduce(0, +)
        if let premade {
            let outcomes = premade.wait(timeout: 30)
            finished = outcomes.filter { (try? $0.get()) != nil }.count
            problems += outcomes.compactMap { outcome in
                if case .failure(let error) = outcome { "\(error)" } else { nil }
            }
            clientCPU = Self.ownCPUSeconds() - ownCPUAtStart
        }
        let wall = Date().timeIntervalSince(started)
        if finished != count { problems.append("\(finished) of \(count) client sessions finished") }

        let store = try CheckpointStore(path: database, logger: logger)
        defer { try? store.close() }
        guard let run = try store.latestRun() else { throw RuntimeError(.storage, "\(database) holds no run") }
        let summaries = try store.checkpointSummaries(run: run.id)
        let updates = try store.updates(run: run.id)
        if summaries.map(\.version) != Array(0...c.versions) {
            problems.append("versions stored: \(summaries.map(\.version))")
        }
        let seconds = summaries.dropFirst().compactMap { $0.metrics["seconds"] }
        let intervals = zip(seconds.dropFirst(), seconds).map { $0 - $1 }
        let aggregateMilliseconds = Self.lines(containing: "aggregated", in: serverLog).compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("ms=") }.flatMap { Double($0.dropFirst(3)) }
        }
        let serving = server.cpuSeconds - cpuAtServing
        let appliedAfterFirst = updates.filter { ($0.appliedVersion ?? 0) > 1 }.count
        let span = (seconds.last ?? 0) - (seconds.first ?? 0)
        return Result(
            clients: count, processes: clients.count, versions: summaries.last?.version ?? 0,
            updatesStored: updates.count,
            updatesApplied: updates.filter { $0.state == .applied }.count, serverPeakMemoryBytes: server.peakMemory,
            serverResidentAtServingBytes: residentAtServing, serverPeakResidentServingBytes: server.sampledPeakResident,
            serverCPUSeconds: server.cpuSeconds, serverCPUSecondsServing: serving,
            serverCPUMillisecondsPerUpdate: updates.isEmpty ? 0 : serving * 1000 / Double(updates.count),
            secondsToFirstVersion: seconds.first ?? 0, medianSecondsPerAggregation: Self.median(intervals),
            maxSecondsPerAggregation: intervals.max() ?? 0,
            medianAggregateMilliseconds: Self.median(aggregateMilliseconds),
            clientCPUSeconds: clientCPU, wallSeconds: wall,
            finalAccuracy: summaries.last?.accuracy, updatesPerSecond: span > 0 ? Double(appliedAfterFirst) / span : 0,
            problems: problems)
    }

    func yaml(clients count: Int, endpoint: String, database: String) -> String {
        let c = configuration
        let directory = c.dataDirectory.map { ", directory: \"\($0)\"" } ?? ""
        return """
            # Written by `sextant bench load`: FedAvg over all \(count) clients, \(c.model), \(c.samplesPerClient) images each.
            run: {name: load-\(count), seed: 3}
            model: \(c.model)
            data: {partition: iid, training_limit: \(count * c.samplesPerClient), evaluation_limit: 1000\(directory)}
            training: {learning_rate: 0.05, batch_size: 32}
            scheduler: {kind: fedavg, min_clients: \(count), local_steps: \(c.localSteps), round_timeout: 600}
            stop: {max_versions: \(c.versions)}
            server: {bind: "\(endpoint)", database: "\(database)", client_timeout: 600, max_concurrent_uploads: \(c.uploadSlots)}
            clients: {count: \(count), speed_distribution: fixed, threads: 1}

            """
    }

    // MARK: - Clients with pre-made deltas

    /// Starts `count` clients with pre-made deltas, each on a thread of its own, with the
    /// model fingerprint the server announced in its "serving" line (read from the log, so
    /// that a server of any schema can be measured).
    private func startPremadeClients(_ count: Int, endpoint: String, serverLog: String) throws -> PremadeClients {
        let serving = Self.lines(containing: " serving", in: serverLog).first ?? ""
        guard let field = serving.split(separator: " ").first(where: { $0.hasPrefix("model=") }) else {
            throw RuntimeError(.storage, "the server's serving line names no model: see \(serverLog)")
        }
        let deltas = PremadeDelta()
        let clients = PremadeClients()
        for index in 0..<count {
            let client = PremadeDeltaClient(
                name: "client-\(index)", endpoint: endpoint, fingerprint: String(field.dropFirst(6)),
                samples: configuration.samplesPerClient, deltas: deltas)
            clients.start { try client.run() }
        }
        return clients
    }

    /// CPU seconds (user and system) this process has used so far.
    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let seconds = { (time: timeval) in Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    // MARK: - Helpers

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    static func lines(containing needle: String, in path: String) -> [Substring] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").filter { $0.contains(needle) }
    }

    static func countLines(containing needle: String, in path: String) -> Int {
        lines(containing: needle, in: path).count
    }

    static func waitForLine(containing needle: String, in path: String, while process: SpawnedProcess, timeout: Double)
        -> Bool
    {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if countLines(containing: needle, in: path) > 0 { return true }
            if !process.isRunning { return false }
            usleep(50_000)
        }
        return false
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's choice for port 0).
    static func freeLoopbackPort() throws -> Int {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw RuntimeError(.invalidConfiguration, "socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard ok else { throw RuntimeError(.invalidConfiguration, "could not find a free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// The threads of the clients with pre-made deltas and what each ended with. Sendable: its
/// state is behind a mutex.
private final class PremadeClients: Sendable {
    private let outcomes = Mutex<[Result<Int, any Error>]>([])
    private let group = DispatchGroup()

    /// Runs `body` on a new thread.
    func start(_ body: @escaping @Sendable () throws -> Int) {
        group.enter()
        Thread { [self] in
            let outcome = Result { try body() }
            outcomes.withLock { $0.append(outcome) }
            group.leave()
        }.start()
    }

    /// Waits up to `timeout` seconds for every client to finish; returns how each ended
    /// (one still running is left to end with the process).
    func wait(timeout: Double) -> [Result<Int, any Error>] {
        _ = group.wait(timeout: .now() + timeout)
        return outcomes.withLock { $0 }
    }
}
