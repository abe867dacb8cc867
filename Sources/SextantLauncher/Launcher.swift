import Foundation
import SextantRuntime
import Synchronization

/// Starts a server and N clients (or only the clients) on this host as child processes,
/// writes each one's output to its own log file, shows one combined progress view,
/// forwards Ctrl-C and reports whether every process succeeded.
package final class Launcher: Sendable {
    package struct Plan: Sendable {
        package var configPath: String
        package var binDirectory: URL
        package var logDirectory: URL
        /// nil: start a server too; otherwise connect the clients to this endpoint.
        package var remoteServer: String?
        package var clientCount: Int
        /// Index of the first client started (hosts of one federation take disjoint ranges).
        package var firstIndex = 0
        package var extraServerArguments: [String] = []

        package init(configPath: String, binDirectory: URL, logDirectory: URL, remoteServer: String?, clientCount: Int)
        {
            self.configPath = configPath
            self.binDirectory = binDirectory
            self.logDirectory = logDirectory
            self.remoteServer = remoteServer
            self.clientCount = clientCount
        }
    }

    package struct Outcome: Sendable {
        /// Exit status (or the signal that ended it) of every process by name.
        package var statuses: [String: Int32]
        /// "exit status N" or "killed by signal N", by name.
        package var endings: [String: String] = [:]
        /// The line that says why each failed process failed (``FailureLines``), by name.
        package var reasons: [String: String] = [:]
        package var failed: [String] { statuses.filter { $0.value != 0 }.keys.sorted(by: LaunchView.naturalOrder) }

        /// One line per failed process: its name, how it ended and its error line.
        package var failureReport: [String] {
            failed.map { name in
                let ending = endings[name] ?? "status \(statuses[name] ?? 0)"
                return "\(name) failed (\(ending)): \(reasons[name] ?? "no output")"
            }
        }
    }

    /// `SWIFT_BACKTRACE` for every child unless the caller sets one: a crash exits at once,
    /// with its fatal-error or assertion line but without Swift's backtracer, which can wait
    /// for a keypress on the terminal the children inherit and was seen holding an aborted
    /// server for minutes, so that its ports are free for a restart (docs/deployment.md).
    package static let backtraceSettings = "enable=no"

    enum Event: Sendable {
        /// The whole lines one read of a child's output held, in order.
        case lines(source: String, texts: [String])
        case exited(source: String, status: Int32, ending: String)
    }

    private let plan: Plan
    private let children = Mutex<[String: Process]>([:])

    package init(plan: Plan) {
        self.plan = plan
    }

    /// Asks every child to stop (SIGTERM), as Ctrl-C on the launcher does.
    package func terminateAll() {
        children.withLock { children in
            for process in children.values where process.isRunning { process.terminate() }
        }
    }

    package func run(isTerminal: Bool) async throws -> Outcome {
        try FileManager.default.createDirectory(at: plan.logDirectory, withIntermediateDirectories: true)
        let (events, sink) = AsyncStream<Event>.makeStream()
        var expected = 0
        if plan.remoteServer == nil {
            try start(
                "server", executable: "sextant-server",
                arguments: ["--config", plan.configPath] + plan.extraServerArguments, sink: sink)
            expected += 1
            // Let the server bind first so clients' first join is not lost to a refused connect.
            try await Task.sleep(for: .milliseconds(500))
        }
        for index in plan.firstIndex..<(plan.firstIndex + plan.clientCount) {
            var arguments = ["--config", plan.configPath, "--index", String(index)]
            if let server = plan.remoteServer { arguments += ["--server", server] }
            try start("client-\(index)", executable: "sextant-client", arguments: arguments, sink: sink)
            expected += 1
        }
        var view = LaunchView(isTerminal: isTerminal)
        var statuses: [String: Int32] = [:]
        var endings: [String: String] = [:]
        var failures = FailureLines()
        var lastDraw = ContinuousClock.now
        for await event in events {
            switch event {
            case .lines(let source, let texts):
                for text in texts {
                    let line = Substring(text)
                    let log = LogLine(parsing: line)
                    failures.ingest(source: source, line: line, parsed: log)
                    if let printed = view.ingest(source: source, line: line, parsed: log), !isTerminal {
                        print(printed)
                        fflush(nil)
                    }
                }
            case .exited(let source, let status, let ending):
                statuses[source] = status
                endings[source] = ending
                if !isTerminal || status != 0 {
                    print("\(source) exited with status \(status)")
                }
                if source == "server" {
                    scheduleStragglerTermination()
                }
                if statuses.count == expected { sink.finish() }
            }
            if isTerminal && ContinuousClock.now - lastDraw > .milliseconds(200) {
                view.draw()
                lastDraw = ContinuousClock.now
            }
        }
        view.draw()
        var outcome = Outcome(statuses: statuses, endings: endings)
        for name in outcome.failed { outcome.reasons[name] = failures.reason(for: name) }
        return outcome
    }

    /// Clients normally leave when the server says goodbye; any still running a while
    /// after the server is gone are stopped.
    private func scheduleStragglerTermination() {
        Task { [self] in
            try? await Task.sleep(for: .seconds(15))
            terminateAll()
        }
    }

    private func start(_ name: String, executable: String, arguments: [String], sink: AsyncStream<Event>.Continuation)
        throws
    {
        let url = try RuntimeError.executable(executable, in: plan.binDirectory)
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = environment["OPENBLAS_NUM_THREADS"] ?? "1"
        environment["SWIFT_BACKTRACE"] = environment["SWIFT_BACKTRACE"] ?? Self.backtraceSettings
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        // One reader per child reads its output to the end and only then reports the exit,
        // so every line, the last one included, comes before the exit (a readability handler
        // still running when the termination handler fired used to lose the last line).
        let logURL = plan.logDirectory.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        children.withLock { $0[name] = process }
        let output = pipe.fileHandleForReading
        // The reader writes what it reads to the child's log file as it comes, and hands the
        // event loop the whole lines of each read at once.
        let reader = Thread {
            defer { try? log.close() }
            var pending: [UInt8] = []
            while case let data = output.availableData, !data.isEmpty {
                log.write(data)
                pending.append(contentsOf: data)
                guard let last = pending.lastIndex(of: UInt8(ascii: "\n")) else { continue }
                let texts = pending[..<last].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                    .map { String(decoding: $0, as: UTF8.self) }
                pending.removeSubrange(...last)
                sink.yield(.lines(source: name, texts: texts))
            }
            if !pending.isEmpty {
                log.write(Data("\n".utf8))
                sink.yield(.lines(source: name, texts: [String(decoding: pending, as: UTF8.self)]))
            }
            exited.wait()
            let status = process.terminationStatus
            let ending =
                process.terminationReason == .uncaughtSignal ? "killed by signal \(status)" : "exit status \(status)"
            sink.yield(.exited(source: name, status: status, ending: ending))
        }
        reader.name = "sextant.launch.\(name)"
        reader.start()
    }
}
