import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import SextantRuntime
import SextantServer
import Synchronization

/// The federation server's HTTP side: `/metrics` (Prometheus text), `/status` (JSON) and
/// `/` (an HTML page of the same status), on Hummingbird.
///
/// It runs beside the federation server and never inside it: metrics are read from the
/// registry (atomics, no actor hop), the status through an async closure that asks the
/// server actor for a snapshot. Connections are accepted and parsed on an event loop
/// thread of its own, never on Swift's cooperative pool, within ``HTTPLimits`` (see
/// docs/design.md and docs/observability.md): a hostile client costs that thread a
/// bounded amount of work and leaves training, `/status` and signals alone.
///
/// A failure of this side is logged and leaves the federation running; only a failure to
/// listen at start is an error, because the operator asked for the endpoint. As a
/// `Service` it serves from ``start(timeout:)`` until a graceful shutdown.
public actor ObservabilityServer: Service {
    /// Nil while the federation server is still starting (loading data, opening the database).
    public typealias StatusProvider = @Sendable () async -> ServerStatus?

    public let address: MetricsAddress
    public let limits: HTTPLimits
    private let registry: PrometheusCollectorRegistry
    private let status: StatusProvider
    private let logger: Logger
    private let connections = ConnectionCount()
    private var running: Running?

    /// What exists between ``start(timeout:)`` and ``stop()``.
    private struct Running {
        var group: MultiThreadedEventLoopGroup
        var services: ServiceGroup
        var serving: Task<Void, Never>
        var port: UInt16?
        var state: ServingState
    }

    public init(
        address: MetricsAddress, registry: PrometheusCollectorRegistry, logger: Logger,
        limits: HTTPLimits = .standard, status: @escaping StatusProvider
    ) {
        self.address = address
        self.registry = registry
        self.status = status
        self.logger = logger
        self.limits = limits
    }

    /// Starts listening and returns once it does.
    /// - Throws: a ``RuntimeError`` naming `server.metrics_bind` when the address cannot be
    ///   bound (in use, not this host's), within `timeout`.
    public func start(timeout: Duration = .seconds(5)) async throws {
        precondition(running == nil, "start() called twice")
        // One thread: enough for a scrape every few seconds, and all a hostile client can take.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let (events, continuation) = AsyncStream<StartEvent>.makeStream()
        var httpLogger = logger
        // Hummingbird's own start line and per-request lines would repeat ours.
        httpLogger.logLevel = max(logger.logLevel, .notice)
        let application = Application(
            router: makeRouter(),
            server: GuardedHTTP1Channel.builder(limits: limits, connections: connections),
            configuration: .init(address: .hostname(address.host, port: Int(address.port)), serverName: nil),
            onServerRunning: { channel in continuation.yield(.listening(channel.localAddress?.port)) },
            eventLoopGroupProvider: .shared(group), logger: httpLogger)
        let services = ServiceGroup(
            configuration: .init(services: [application], gracefulShutdownSignals: [], logger: httpLogger))
        let state = ServingState()
        let logger = logger
        let address = address
        // Unstructured because it outlives this call: it ends in stop().
        let serving = Task {
            do {
                try await services.run()
                continuation.yield(.ended(nil))
            } catch {
                continuation.yield(.ended(error))
                // The federation goes on without the endpoint: say so, unless it never
                // listened (start() throws) or we stopped it.
                if state.isServing {
                    logger.error(
                        "the metrics endpoint stopped: \(Self.reason(error))", metadata: ["address": "\(address)"])
                }
            }
        }
        let timer = Task {
            try await Task.sleep(for: timeout)
            continuation.yield(.timedOut)
        }
        defer { timer.cancel() }
        running = Running(group: group, services: services, serving: serving, port: nil, state: state)
        for await event in events {
            switch event {
            case .listening(let port):
                running?.port = port.flatMap { UInt16(exactly: $0) }
                state.isServing = true
                logger.info("serving /metrics and /status", metadata: ["address": "http://\(address)"])
                if !address.isLoopback {
                    logger.warning(
                        "the metrics endpoint has no authentication and listens beyond this host",
                        metadata: ["address": "\(address)"])
                }
                return
            case .ended(let error):
                await stop()
                throw RuntimeError(
                    .invalidConfiguration,
                    "key 'server.metrics_bind' has value '\(address)', but the server cannot listen there: \(error.map(Self.reason) ?? "it stopped"); choose a free local address or leave it empty"
                )
            case .timedOut:
                await stop()
                throw RuntimeError(
                    .invalidConfiguration,
                    "key 'server.metrics_bind' has value '\(address)': not listening after \(timeout)")
            }
        }
    }

    /// The port actually bound (differs from the configured one only for port 0, in tests).
    public var port: UInt16? { running?.port }

    /// Closes the listening socket, lets open requests finish for up to half a second,
    /// then closes what is left and ends the event loop's thread.
    public func stop() async {
        guard let running else { return }
        self.running = nil
        running.state.isServing = false
        await running.services.triggerGracefulShutdown()
        let serving = running.serving
        let cutShort = Task {
            try await Task.sleep(for: .milliseconds(500))
            serving.cancel()
        }
        await serving.value
        cutShort.cancel()
        do {
            try await running.group.shutdownGracefully()
        } catch {
            logger.debug("the metrics endpoint's event loop did not shut down cleanly: \(error)")
        }
    }

    /// As a service: serves until the group shuts down gracefully (or is cancelled), then
    /// stops. ``start(timeout:)`` must have been called: the endpoint listens before the
    /// federation server opens its database.
    public func run() async throws {
        try? await gracefulShutdown()
        await stop()
    }

    private func makeRouter() -> Router<BasicRequestContext> {
        let registry = registry
        let status = status
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(8192)
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        router.get("/status") { _, _ -> Response in
            guard let current = await status() else { return Self.starting }
            let body = try ServerStatus.makeEncoder().encode(current)
            return Response(
                status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.get("/") { _, _ -> Response in
            let page = StatusPage.render(await status())
            return Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
        }
        return router
    }

    /// 503 with a retry hint: the server is up but has no run to describe yet.
    static var starting: Response {
        Response(
            status: .serviceUnavailable, headers: [.contentType: "application/json", .retryAfter: "1"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"status":"starting"}"#)))
    }

    /// "Address already in use (bind, errno 98)" rather than NIO's "bind(descriptor:ptr:bytes:): ...".
    static func reason(_ error: any Error) -> String {
        if let error = error as? IOError {
            return "\(String(cString: strerror(error.errnoCode))) (bind, errno \(error.errnoCode))"
        }
        return "\(error)"
    }
}

/// How ``ObservabilityServer/start(timeout:)`` learns its outcome.
private enum StartEvent: Sendable {
    case listening(Int?)
    case ended((any Error)?)
    case timedOut
}

/// Whether a failure of the serving task is reported as such (between listening and stopping).
private final class ServingState: Sendable {
    private let serving = Atomic<Bool>(false)

    var isServing: Bool {
        get { serving.load(ordering: .relaxed) }
        set { serving.store(newValue, ordering: .relaxed) }
    }
}
