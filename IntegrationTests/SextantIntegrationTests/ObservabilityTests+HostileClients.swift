import Foundation
import SextantTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension IntegrationTests.ObservabilityTests {
    /// The HTTP side's limits as docs/observability.md states them (the test target does
    /// not link SextantObservability: these are what an operator is told, checked from outside).
    enum HTTPLimitsAsDocumented {
        static let maxConnections = 64
        static let headTimeout: Duration = .seconds(10)
    }

    /// Issue 13: one request with a 1 MiB header line on the metrics port used to stop
    /// training, `/status` and SIGTERM. While a federation trains, four hostile clients
    /// run at once for a minute: (a) 1 MiB header lines, (b) 10,000 headers, (c) a head
    /// trickled a byte a second (reconnecting whenever it is cut), (d) more connections
    /// than the limit. Versions must keep coming throughout, each attack must be refused
    /// or cut in bounded time, `/status` must answer the next ordinary request, and
    /// SIGTERM must then stop the run within 5 s.
    @Test("hostile HTTP clients on the metrics port stop neither training, nor /status, nor SIGTERM")
    func hostileClientsOnTheMetricsPort() async throws {
        try IntegrationEnvironment.requireDataset()
        for name in ["sextant-server", "sextant-client"] {
            _ = try IntegrationEnvironment.executable(name)
        }
        let fixture = try FederationFixture(name: "hostile-http")
        defer { fixture.tearDown() }
        var freePort = try FederationFixture.freeLoopbackPort()
        while freePort == fixture.port { freePort = try FederationFixture.freeLoopbackPort() }
        let metricsPort = freePort
        var configuration = fixture.configuration(name: "hostile-http")
        // Small and slowed down: a few versions a second, for longer than the attack lasts.
        configuration.model = "logreg"
        configuration.clientCount = 2
        configuration.minClients = 2
        configuration.trainingLimit = 2_000
        configuration.evaluationLimit = 300
        configuration.localSteps = 5
        configuration.maxVersions = 100_000
        configuration.metricsBind = "127.0.0.1:\(metricsPort)"
        let config = try fixture.write(configuration.yaml)
        let server = try fixture.startServer(config: config)
        let listening = try await fixture.waitForLogLine(server, containing: "serving /metrics", timeout: .seconds(20))
        try #require(listening != nil, "the metrics endpoint did not start\n\(fixture.diagnostics())")
        for index in 0..<configuration.clientCount {
            _ = try fixture.startClient(config: config, index: index, timePerStep: 0.02)
        }
        let training = try await fixture.wait(timeout: .seconds(60)) { Self.loggedVersion(server) >= 2 }
        try #require(training, "no aggregation before the attack\n\(fixture.diagnostics())")

        // The attack: four kinds at once, for `window`; versions sampled as it goes.
        let window: Duration = .seconds(60)
        let started = ContinuousClock.now
        async let oversized = Self.repeatedly(for: window) {
            Self.refusal(port: metricsPort, head: Self.head(withHeaderLineOf: 1 << 20))
        }
        async let numerous = Self.repeatedly(for: window) {
            Self.refusal(port: metricsPort, head: Self.head(withHeaderCount: 10_000))
        }
        async let trickled = Self.trickle(port: metricsPort, for: window)
        async let flooded = Self.repeatedly(for: window, pause: .seconds(5)) {
            Self.flood(port: metricsPort, connections: HTTPLimitsAsDocumented.maxConnections + 16)
        }
        var versions = [Self.loggedVersion(server)]
        while ContinuousClock.now - started < window {
            try await Task.sleep(for: window / 4)
            versions.append(Self.loggedVersion(server))
        }
        let (oversizedOutcomes, numerousOutcomes, trickleCuts, floods) = try await (
            oversized, numerous, trickled, flooded
        )
        let attack = """
            versions during the attack: \(versions)
            1 MiB header line: \(oversizedOutcomes)
            10,000 headers: \(numerousOutcomes)
            trickled heads cut after (s): \(trickleCuts.map { String(format: "%.1f", $0) })
            floods (closed at once, open, closed by the head deadline): \(floods)
            """
        print(attack)

        // Training went on: the version rose in every quarter of the window.
        #expect(zip(versions, versions.dropFirst()).allSatisfy { $0 < $1 }, "\(attack)\n\(fixture.diagnostics())")
        // Each attack was refused or cut, never left hanging.
        #expect(!oversizedOutcomes.isEmpty && !oversizedOutcomes.contains(.timedOut), "\(attack)")
        #expect(!oversizedOutcomes.contains(.status(200)), "\(attack)")
        #expect(!numerousOutcomes.isEmpty && !numerousOutcomes.contains(.timedOut), "\(attack)")
        #expect(!numerousOutcomes.contains(.status(200)), "\(attack)")
        let deadline = HTTPLimitsAsDocumented.headTimeout / .seconds(1)
        #expect(trickleCuts.count >= 3, "a trickled head must be cut at the deadline\n\(attack)")
        #expect(trickleCuts.allSatisfy { $0 <= deadline + 3 }, "\(attack)")
        #expect(!floods.isEmpty, "\(attack)")
        for flood in floods {
            #expect(flood.closedAtOnce >= 16, "connections past the limit must be closed at once\n\(attack)")
            #expect(flood.closedAtOnce + flood.closedByDeadline == flood.opened, "\(attack)")
        }

        // The next ordinary request is answered.
        let status = try await onDedicatedThread {
            RawHTTPConnection.get(port: metricsPort, path: "/status", timeout: .seconds(5))
        }
        #expect(status.outcome == .status(200), "GET /status after the attack: \(status.outcome)")
        let document = try? JSONSerialization.jsonObject(with: Data(status.body.utf8)) as? [String: Any]
        #expect(document?["status"] as? String == "running", "\(status.body)")

        // SIGTERM stops the run, promptly and cleanly.
        server.send(SIGTERM)
        let exited = try await server.waitForExit(timeout: .seconds(5))
        #expect(exited, "the server ignored SIGTERM after the attack\n\(fixture.diagnostics())")
        if !exited { return }
        #expect(server.exitedSuccessfully, "\(server.tail())")
        #expect(try fixture.openStore().latestRun()?.status == .stopped)
        #expect(server.standardOutput.contains(" stopped at version "), "\(server.tail())")
    }

    // MARK: - The attacks

    /// `GET /status` with one header whose value is `size` bytes.
    static func head(withHeaderLineOf size: Int) -> [UInt8] {
        Array("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Large: ".utf8) + [UInt8](repeating: 0x61, count: size)
            + Array("\r\n\r\n".utf8)
    }

    /// `GET /status` with `count` small headers.
    static func head(withHeaderCount count: Int) -> [UInt8] {
        var text = "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for index in 0..<count { text += "X-Header-\(index): \(index)\r\n" }
        return Array((text + "\r\n").utf8)
    }

    /// Sends `head` on a new connection: what the server did within 10 s.
    static func refusal(port: Int, head: [UInt8]) -> RawHTTPConnection.Outcome {
        guard let connection = RawHTTPConnection(port: port) else { return .closed }
        defer { connection.close() }
        // A server that refuses early may reset the connection while the head is still going out.
        let sent = connection.send(head, timeout: .seconds(10))
        let outcome = connection.outcome(timeout: .seconds(10))
        return sent || outcome != .timedOut ? outcome : .timedOut
    }

    /// A head sent a byte a second for `window`, on a new connection each time the server
    /// cuts the last one: the seconds each connection lasted.
    static func trickle(port: Int, for window: Duration) async throws -> [Double] {
        try await onDedicatedThread {
            let end = ContinuousClock.now + window
            var cuts: [Double] = []
            while ContinuousClock.now < end {
                guard let connection = RawHTTPConnection(port: port) else {
                    Thread.sleep(forTimeInterval: 0.5)
                    continue
                }
                let opened = ContinuousClock.now
                var bytes = Array("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".utf8)
                var cut = false
                while ContinuousClock.now < end {
                    let byte = bytes.isEmpty ? [UInt8(0x61)] : [bytes.removeFirst()]
                    // A cut shows on the read side at once, on the write side only later.
                    if !connection.send(byte) || connection.answeredOrClosed(within: .seconds(1)) {
                        cut = true
                        break
                    }
                }
                if cut { cuts.append((ContinuousClock.now - opened) / .seconds(1)) }
                connection.close()
            }
            return cuts
        }
    }

    struct Flood: CustomStringConvertible {
        var opened = 0
        var closedAtOnce = 0
        var closedByDeadline = 0
        var description: String { "(\(closedAtOnce), \(opened - closedAtOnce), \(closedByDeadline))" }
    }

    /// Opens `connections` connections at once and sends nothing: how many the server closed
    /// within a second, and how many of the others it closed by the head deadline.
    static func flood(port: Int, connections: Int) -> Flood {
        var flood = Flood()
        let open = (0..<connections).compactMap { _ in RawHTTPConnection(port: port) }
        flood.opened = open.count
        var admitted: [RawHTTPConnection] = []
        let once = ContinuousClock.now + .seconds(1)
        for connection in open {
            if connection.answeredOrClosed(within: max(once - ContinuousClock.now, .milliseconds(10))) {
                flood.closedAtOnce += 1
                connection.close()
            } else {
                admitted.append(connection)
            }
        }
        let deadline = ContinuousClock.now + headTimeoutWithSlack
        for connection in admitted {
            if connection.answeredOrClosed(within: max(deadline - ContinuousClock.now, .milliseconds(10))) {
                flood.closedByDeadline += 1
            }
            connection.close()
        }
        return flood
    }

    static var headTimeoutWithSlack: Duration { HTTPLimitsAsDocumented.headTimeout + .seconds(3) }

    /// Runs `attack` on a thread of its own again and again, `pause` apart, for `window`.
    static func repeatedly<T: Sendable>(
        for window: Duration, pause: Duration = .seconds(1), _ attack: @escaping @Sendable () -> T
    ) async throws -> [T] {
        try await onDedicatedThread {
            let end = ContinuousClock.now + window
            var results: [T] = []
            while ContinuousClock.now < end {
                results.append(attack())
                Thread.sleep(forTimeInterval: pause / .seconds(1))
            }
            return results
        }
    }

    /// The latest version in the server's "aggregated" log lines (0 before the first).
    static func loggedVersion(_ server: ManagedProcess) -> Int {
        LogLines.all(in: server.standardError, containing: "aggregated").last.flatMap {
            LogLines.value(of: "version", in: $0).flatMap { Int($0) }
        } ?? 0
    }
}
