import FlyingFox
import FlyingSocks
import Foundation
import Logging
import Prometheus
import SextantRuntime
import SextantServer
import Synchronization

/// The federation server's HTTP side: `/metrics` (Prometheus text), `/status` (JSON) and
/// `/` (an HTML page of the same status), on FlyingFox.
///
/// It runs beside the federation server and never inside it: metrics are read from the
/// registry (atomics, no actor hop), the status through an async closure that asks the
/// server actor for a snapshot. A failure of this side is logged and leaves the
/// federation running; only a failure to listen at start is an error, because the
/// operator asked for the endpoint.
public actor ObservabilityServer {
    /// Nil while the federation server is still starting (loading data, opening the database).
    public typealias StatusProvider = @Sendable () async -> ServerStatus?

    public let address: MetricsAddress
    private let registry: PrometheusCollectorRegistry
    private let status: StatusProvider
    private let logger: Logger
    private var http: HTTPServer?
    private let httpLogger: FlyingFoxLogger
    private var serving: Task<Void, Never>?

    public init(
        address: MetricsAddress, registry: PrometheusCollectorRegistry, logger: Logger,
        status: @escaping StatusProvider
    ) {
        self.address = address
        self.registry = registry
        self.status = status
        self.logger = logger
        httpLogger = FlyingFoxLogger(logger: logger)
    }

    /// Starts listening and returns once it does.
    /// - Throws: a ``RuntimeError`` naming `server.metrics_bind` when the address cannot be
    ///   bound (in use, not this host's), within `timeout`.
    public func start(timeout: Duration = .seconds(5)) async throws {
        precondition(http == nil, "start() called twice")
        let http = try makeHTTPServer()
        await addRoutes(to: http)
        let failure = FailureBox()
        let logger = logger
        let address = address
        let httpLogger = httpLogger
        // Unstructured because it outlives this call: it ends in stop().
        serving = Task {
            do {
                try await http.run()
            } catch {
                failure.error = error
                // The federation goes on without the endpoint: say so, unless it never
                // listened (start() throws) or we stopped it.
                if httpLogger.isServing {
                    logger.error(
                        "the metrics endpoint stopped: \(Self.reason(error))", metadata: ["address": "\(address)"])
                }
            }
        }
        self.http = http
        // FlyingFox reports a failed bind only by run() ending; poll both outcomes.
        let deadline = ContinuousClock.now + timeout
        while !(await http.isListening) {
            if let error = failure.error {
                throw RuntimeError(
                    .invalidConfiguration,
                    "key 'server.metrics_bind' has value '\(address)', but the server cannot listen there: \(Self.reason(error)); choose a free local address or leave it empty"
                )
            }
            guard ContinuousClock.now < deadline else {
                throw RuntimeError(
                    .invalidConfiguration,
                    "key 'server.metrics_bind' has value '\(address)': not listening after \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        httpLogger.isServing = true
        logger.info("serving /metrics and /status", metadata: ["address": "http://\(address)"])
        if !address.isLoopback {
            logger.warning(
                "the metrics endpoint has no authentication and listens beyond this host",
                metadata: ["address": "\(address)"])
        }
    }

    /// The port actually bound (differs from the configured one only for port 0, in tests).
    public var port: UInt16? {
        get async {
            switch await http?.listeningAddress {
            case .ip4(_, let port), .ip6(_, let port): port
            default: nil
            }
        }
    }

    /// Closes the listening socket, lets open requests finish for up to half a second.
    public func stop() async {
        httpLogger.isServing = false
        await http?.stop(timeout: 0.5)
        await serving?.value
        http = nil
        serving = nil
    }

    private func makeHTTPServer() throws -> HTTPServer {
        let bridge = httpLogger
        do {
            switch address.family {
            case .ipv4:
                return HTTPServer(
                    config: .init(address: try sockaddr_in.inet(ip4: address.host, port: address.port), logger: bridge))
            case .ipv6:
                return HTTPServer(
                    config: .init(
                        address: try sockaddr_in6.inet6(ip6: address.host, port: address.port), logger: bridge))
            }
        } catch {
            throw RuntimeError(
                .invalidConfiguration, "key 'server.metrics_bind' has value '\(address)': \(Self.reason(error))")
        }
    }

    private func addRoutes(to http: HTTPServer) async {
        let registry = registry
        let status = status
        await http.appendRoute("GET /metrics") { _ in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(8192)
            registry.emit(into: &buffer)
            return HTTPResponse(
                statusCode: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: Data(buffer)
            )
        }
        await http.appendRoute("GET /status") { _ in
            guard let current = await status() else { return Self.starting }
            let body = try ServerStatus.makeEncoder().encode(current)
            return HTTPResponse(
                statusCode: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"], body: body)
        }
        await http.appendRoute("GET /") { _ in
            let page = StatusPage.render(await status())
            return HTTPResponse(
                statusCode: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: Data(page.utf8))
        }
    }

    /// 503 with a retry hint: the server is up but has no run to describe yet.
    static var starting: HTTPResponse {
        HTTPResponse(
            statusCode: .serviceUnavailable,
            headers: [.contentType: "application/json", HTTPHeader("Retry-After"): "1"],
            body: Data(#"{"status":"starting"}"#.utf8))
    }

    /// "Address already in use (bind, errno 98)" rather than FlyingFox's "SocketError. bind(98): ...".
    static func reason(_ error: any Error) -> String {
        if case SocketError.failed(let type, let errno, let message) = error {
            return "\(message) (\(type), errno \(errno))"
        }
        return "\(error)"
    }
}

/// The serving task's error, read by ``ObservabilityServer/start(timeout:)``'s polling.
private final class FailureBox: Sendable {
    private let stored = Mutex<(any Error)?>(nil)

    var error: (any Error)? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}
