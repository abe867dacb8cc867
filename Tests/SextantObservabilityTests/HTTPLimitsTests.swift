import Foundation
import Logging
import Prometheus
import SextantObservability
import SextantRuntime
import SextantTestSupport
import Testing

/// ``HTTPLimits`` against a real endpoint on 127.0.0.1 (a port the kernel picks), with
/// limits small enough to reach quickly. The clients block on sockets, so they run on
/// threads of their own, never on the pool the endpoint's responders use.
@Suite struct HTTPLimitsTests {
    static let limits = HTTPLimits(
        maxHeadBytes: 2048, maxHeaderCount: 10, maxBodyBytes: 64, maxConnections: 4, headTimeout: .seconds(1),
        idleTimeout: .seconds(5))

    /// Starts an endpoint with `limits`, runs `body` with its port, stops it.
    func withEndpoint(limits: HTTPLimits = HTTPLimitsTests.limits, _ body: (Int) async throws -> Void) async throws {
        let endpoint = ObservabilityServer(
            address: ObservabilityServerTests.loopback, registry: PrometheusCollectorRegistry(),
            logger: ObservabilityServerTests.logger, limits: limits, status: { ObservabilityServerTests.status })
        try await endpoint.start()
        let port = Int(try #require(await endpoint.port))
        do {
            try await body(port)
        } catch {
            await endpoint.stop()
            throw error
        }
        await endpoint.stop()
    }

    /// Sends `request` on a new connection: what came back within 5 s.
    func send(_ request: String, port: Int) async -> RawHTTPConnection.Outcome {
        await RawHTTPConnection.onThread {
            guard let connection = RawHTTPConnection(port: port) else { return .closed }
            defer { connection.close() }
            _ = connection.send(request)
            return connection.outcome(timeout: .seconds(5))
        }
    }

    func ordinaryGet(port: Int) async -> RawHTTPConnection.Outcome {
        await RawHTTPConnection.onThread {
            RawHTTPConnection.get(port: port, path: "/status", timeout: .seconds(5)).outcome
        }
    }

    @Test func aRequestLineLongerThanTheHeadLimitIsRefused() async throws {
        try await withEndpoint { port in
            let path = "/status?" + String(repeating: "a", count: 4096)
            #expect(await send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", port: port) == .status(431))
            #expect(await ordinaryGet(port: port) == .status(200))
        }
    }

    @Test func aHeaderLargerThanTheHeadLimitIsRefused() async throws {
        try await withEndpoint { port in
            let value = String(repeating: "a", count: 4096)
            #expect(
                await send("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Large: \(value)\r\n\r\n", port: port)
                    == .status(431))
        }
    }

    @Test func aHeadUnderTheLimitIsServed() async throws {
        try await withEndpoint { port in
            let value = String(repeating: "a", count: 1500)
            #expect(
                await send("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Large: \(value)\r\n\r\n", port: port)
                    == .status(200))
        }
    }

    @Test func tooManyHeadersAreRefused() async throws {
        try await withEndpoint { port in
            let headers = (0..<20).map { "X-Header-\($0): \($0)\r\n" }.joined()
            #expect(await send("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\(headers)\r\n", port: port) == .status(431))
        }
    }

    @Test func aDeclaredBodyOverTheLimitIsRefused() async throws {
        try await withEndpoint { port in
            #expect(
                await send("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n", port: port)
                    == .status(413))
        }
    }

    @Test func aChunkedBodyOverTheLimitIsCut() async throws {
        try await withEndpoint { port in
            let chunk = String(repeating: "b", count: 100)
            let request =
                "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n\(chunk)\r\n0\r\n\r\n"
            let outcome = await send(request, port: port)
            // The head was passed on, so its response may already be going out: 200 or a cut.
            #expect(outcome != .timedOut, "\(outcome)")
            let later = await RawHTTPConnection.onThread {
                guard let connection = RawHTTPConnection(port: port) else { return false }
                _ = connection.send(request)
                // Whatever the first answer, the connection must not stay open for another request.
                _ = connection.outcome(timeout: .seconds(2))
                _ = connection.send("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                return connection.outcome(timeout: .seconds(2)) != .timedOut
            }
            #expect(later)
        }
    }

    @Test func aTrickledHeadIsClosedAtTheDeadline() async throws {
        try await withEndpoint { port in
            let (outcome, seconds) = await RawHTTPConnection.onThread { () -> (RawHTTPConnection.Outcome, Double) in
                guard let connection = RawHTTPConnection(port: port) else { return (.closed, 0) }
                defer { connection.close() }
                let opened = ContinuousClock.now
                let head = Array("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaa".utf8)
                for byte in head {
                    guard connection.send([byte]) else { break }
                    let outcome = connection.outcome(timeout: .milliseconds(100))
                    if outcome != .timedOut { return (outcome, (ContinuousClock.now - opened) / .seconds(1)) }
                }
                return (.timedOut, (ContinuousClock.now - opened) / .seconds(1))
            }
            #expect(outcome == .status(408))
            #expect(seconds >= 0.9 && seconds < 2, "cut after \(seconds) s")
        }
    }

    @Test func theDeadlineStartsAgainAfterEachResponse() async throws {
        try await withEndpoint { port in
            let outcomes = await RawHTTPConnection.onThread { () -> [RawHTTPConnection.Outcome] in
                guard let connection = RawHTTPConnection(port: port) else { return [] }
                defer { connection.close() }
                var outcomes: [RawHTTPConnection.Outcome] = []
                // Three requests on one connection, 0.6 s apart: each within the deadline.
                for _ in 0..<3 {
                    _ = connection.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    outcomes.append(connection.outcome(timeout: .seconds(2)))
                    Thread.sleep(forTimeInterval: 0.6)
                }
                // Then silence: 408 and closed at the deadline.
                outcomes.append(connection.outcome(timeout: .seconds(2)))
                return outcomes
            }
            #expect(outcomes == [.status(200), .status(200), .status(200), .status(408)])
        }
    }

    @Test func connectionsPastTheLimitAreClosedAtOnce() async throws {
        var relaxed = Self.limits
        relaxed.headTimeout = .seconds(5)
        let limits = relaxed
        try await withEndpoint(limits: limits) { port in
            let (admittedOpen, excessClosed) = await RawHTTPConnection.onThread { () -> (Bool, Bool) in
                let admitted = (0..<limits.maxConnections).compactMap { _ in RawHTTPConnection(port: port) }
                Thread.sleep(forTimeInterval: 0.2)
                guard let excess = RawHTTPConnection(port: port) else { return (false, false) }
                let excessClosed = excess.outcome(timeout: .milliseconds(500)) == .closed
                let admittedOpen =
                    admitted.count == limits.maxConnections
                    && admitted.allSatisfy { $0.outcome(timeout: .milliseconds(50)) == .timedOut }
                admitted.forEach { $0.close() }
                excess.close()
                return (admittedOpen, excessClosed)
            }
            #expect(admittedOpen, "connections within the limit stay open")
            #expect(excessClosed, "a connection past the limit is closed at once")
            // Once they are gone, the endpoint serves again.
            try await Task.sleep(for: .milliseconds(200))
            #expect(await ordinaryGet(port: port) == .status(200))
        }
    }
}
