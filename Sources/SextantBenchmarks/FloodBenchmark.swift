import Foundation
import Logging
import SextantRuntime
import SextantWire

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `sextant bench flood`: a stress loop, not a measurement of speed. Each run starts
/// sextant-server, then, round after round, opens many DEALER connections that send
/// messages as fast as libzmq takes them (heartbeats of peers that never joined: the
/// server answers each with an error until its rate limit drops them) and closes them at
/// once with unread replies, as an attacker or a crashed fleet would; then it stops the
/// server and says how it ended. A run whose server died of a signal is an abort; its
/// standard error names libzmq's assertion when that was the cause (docs/reliability.md).
/// Sendable.
package struct FloodBenchmark: Sendable {
    package struct Configuration: Sendable {
        package var runs = 10
        package var roundsPerRun = 5
        package var connections = 50
        package var messagesPerConnection = 2_000
        package var binDirectory: URL
        package var outputDirectory: URL
        package var dataDirectory: String?

        package init(binDirectory: URL, outputDirectory: URL) {
            self.binDirectory = binDirectory
            self.outputDirectory = outputDirectory
        }
    }

    /// How one run ended.
    package struct Run: Sendable, Codable {
        package var run: Int
        /// "exit status N" or "killed by signal N".
        package var serverStatus: String
        /// The server died before it was asked to stop (a crash, not a shutdown).
        package var died: Bool
        /// The server ended by a signal or printed a libzmq assertion, during the flood or
        /// in its shutdown.
        package var aborted: Bool
        /// The libzmq assertion in the server's standard error, if any.
        package var assertion: String?
        package var messagesSent: Int
        /// Seconds from the stop request (SIGTERM) or the death to the process's end.
        package var secondsToExit: Double
    }

    package var configuration: Configuration
    package var logger: Logger

    package init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs every run in turn; `progress` hears of each as it ends.
    package func run(progress: (Run) -> Void = { _ in }) throws -> [Run] {
        let c = configuration
        guard c.runs > 0, c.roundsPerRun > 0, c.connections > 0, c.messagesPerConnection > 0 else {
            throw RuntimeError(.invalidArgument, "--runs, --rounds, --connections and --messages must be positive")
        }
        _ = try RuntimeError.executable("sextant-server", in: c.binDirectory)
        return try (1...c.runs).map { number in
            let result = try run(number)
            progress(result)
            return result
        }
    }

    func run(_ number: Int) throws -> Run {
        let c = configuration
        let directory = c.outputDirectory.appendingPathComponent("run-\(number)", isDirectory: true)
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let endpoint = "tcp://127.0.0.1:\(try LoadBenchmark.freeLoopbackPort())"
        let config = directory.appendingPathComponent("flood.yaml")
        try yaml(endpoint: endpoint, database: directory.appendingPathComponent("checkpoints.sqlite").path)
            .write(to: config, atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        let serverLog = directory.appendingPathComponent("server.log").path
        let server = try SpawnedProcess(
            name: "server", executable: c.binDirectory.appendingPathComponent("sextant-server").path,
            arguments: ["--config", config.path, "--log-level", "info"], environment: environment,
            output: directory.appendingPathComponent("server.out").path, error: serverLog)
        defer {
            if server.isRunning {
                server.send(SIGKILL)
                _ = server.wait(timeout: 5)
            }
        }
        guard LoadBenchmark.waitForLine(containing: "serving", in: serverLog, while: server, timeout: 120) else {
            throw RuntimeError(.storage, "the server did not start; see \(serverLog)")
        }
        var sent = 0
        for round in 0..<c.roundsPerRun where server.isRunning {
            sent += try flood(endpoint, round: round, run: number)
        }
        // Time for the server to drain what the last round left in its queues.
        _ = server.wait(timeout: 2)
        let died = !server.isRunning
        let stopping = Date()
        if !died {
            server.send(SIGTERM)
            if !server.wait(timeout: 60) {
                server.send(SIGKILL)
                _ = server.wait(timeout: 5)
            }
        }
        let text = (try? String(contentsOfFile: serverLog, encoding: .utf8)) ?? ""
        let assertion = text.split(separator: "\n").first { $0.contains("Assertion failed") }.map(String.init)
        return Run(
            run: number, serverStatus: server.statusDescription, died: died,
            aborted: assertion != nil || server.statusDescription.hasPrefix("killed"), assertion: assertion,
            messagesSent: sent, secondsToExit: died ? 0 : Date().timeIntervalSince(stopping))
    }

    /// Opens every connection, sends each one's messages without waiting for room (what
    /// does not fit is dropped), and closes them all at once without linger.
    func flood(_ endpoint: String, round: Int, run: Int) throws -> Int {
        let c = configuration
        let context = try ZMQContext()
        var sockets: [ZMQSocket] = []
        defer {
            for socket in sockets { socket.close() }
        }
        for index in 0..<c.connections {
            let socket = try ZMQSocket(context: context, type: .dealer)
            try socket.setOptions([
                .linger(milliseconds: 0), .routingID(Array("flood-\(run)-\(round)-\(index)".utf8)),
                .sendHighWaterMark(1_000), .receiveHighWaterMark(1),
            ])
            try socket.connect(to: endpoint)
            sockets.append(socket)
        }
        let heartbeat = WireCodec.encode(.heartbeat(HeartbeatMessage(modelVersion: 0, state: .idle)))
        var sent = 0
        for _ in 0..<c.messagesPerConnection {
            for socket in sockets {
                if (try? socket.send(heartbeat, blocking: false)) != nil { sent += 1 }
            }
        }
        return sent
    }

    func yaml(endpoint: String, database: String) -> String {
        let directory = configuration.dataDirectory.map { ", directory: \"\($0)\"" } ?? ""
        return """
            # Written by `sextant bench flood`: a server that waits for clients that never come.
            run: {name: flood, seed: 3}
            model: logreg
            data: {partition: iid, training_limit: 1000, evaluation_limit: 200\(directory)}
            scheduler: {kind: fedavg, min_clients: 2, local_steps: 5}
            stop: {max_versions: 5}
            server: {bind: "\(endpoint)", database: "\(database)"}
            clients: {count: 2}

            """
    }
}
