import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import SextantObservability
import SextantRuntime
import SextantServer

/// The federation server daemon.
@main
struct SextantServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sextant-server",
        abstract:
            "Run a Sextant federation server: schedule clients, aggregate their updates, checkpoint every version.")

    @Option(help: "The federation's YAML configuration.") var config: String
    @Option(help: "Override server.database.") var database: String?
    @Option(help: "Override server.bind (tcp://HOST:PORT).") var bind: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"
    @Option(help: "Log format: text or json (one JSON object per line).") var logFormat = "text"
    @Flag(help: "Serve a non-loopback address without CURVE (anyone who reaches it can join). Logged loudly.")
    var insecure = false
    @Option(help: "Override server.metrics_bind (HOST:PORT of /metrics and /status; empty: off).")
    var metricsBind: String?
    @Option(help: "Seconds to keep serving /metrics and /status after the run ends, for a last scrape.")
    var linger: Double = 0

    func run() async throws {
        // First, before other threads allocate: glibc allows no mallopt while they do.
        LargeBufferReuse.enable()
        try LogSetup.bootstrap(level: try LogSetup.level(named: logLevel), format: logFormat)
        let url = URL(fileURLWithPath: config)
        var configuration = try FederationConfiguration.load(from: url)
        if let database { configuration.server.database = database }
        if let bind { configuration.server.bind = bind }
        if let metricsBind { configuration.server.metricsBind = metricsBind }
        guard linger >= 0, linger.isFinite else { throw ValidationError("--linger must be a number of seconds >= 0") }
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        let logger = Logger(label: "sextant.server")
        // Past a file-size limit (ulimit -f) the kernel would kill the daemon mid-write with
        // SIGXFSZ; ignored, the write fails with EFBIG and the server stops with a message.
        signal(SIGXFSZ, SIG_IGN)
        let handle = ServerHandle()
        let endpoint = try await startEndpoint(configuration.server, handle: handle)
        let server: FederationServer
        // From here to the end, SIGTERM and SIGINT stop the run, whenever they come: during
        // the agreement, while the database opens, or under the service group (which stops
        // it too; a second stop does nothing).
        let agreement = Task { [configuration, insecure, logger] in
            try await FederationServer.agreedPreprocessing(
                configuration: configuration, insecure: insecure, logger: logger)
        }
        let interrupt = SignalHandler { _ in
            agreement.cancel()
            Task { await handle.requestStop() }
        }
        defer { withExtendedLifetime(interrupt) {} }
        do {
            let preprocessing = try await agreement.value
            server = try await FederationServer(
                configuration: configuration, configurationText: text, logger: logger, insecure: insecure,
                preprocessing: preprocessing?.pipeline, preprocessingRules: preprocessing?.rules)
        } catch {
            await endpoint?.stop()
            throw error
        }
        await handle.attach(server)
        let startedUp = ProcessUsage.now()
        let reload = SignalHandler(signals: [SIGHUP]) { _ in Task { await server.reloadAllowList() } }
        let summary = try await serve(server, endpoint: endpoint, logger: logger)
        withExtendedLifetime(reload) {}
        let accuracy = summary.accuracy.map { String(format: "%.2f%%", $0 * 100) } ?? "n/a"
        if let epsilon = summary.epsilon, let guarantee = configuration.privacy.guaranteeDescription(configuration) {
            print(String(format: "differential privacy: epsilon %.3f (%@)", epsilon, guarantee as NSString))
        }
        print(
            "run \(summary.run) \(summary.status.rawValue) at version \(summary.version), test accuracy \(accuracy), peak memory \(summary.peakMemory / 1_048_576) MiB, \(ProcessUsage.now().cpuText(since: startedUp))"
        )
        if summary.status == .failed { throw ExitCode.failure }
    }

    /// Runs the federation and the HTTP endpoint as one service group: SIGTERM or SIGINT
    /// shut both down gracefully (the federation first, so the endpoint still answers while
    /// it stops); the run's end, after `--linger`, shuts down the endpoint.
    private func serve(
        _ server: FederationServer, endpoint: ObservabilityServer?, logger: Logger
    ) async throws -> FederationServer.Summary {
        let federation = FederationService(server: server, lingerSeconds: endpoint == nil ? 0 : linger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let endpoint {
            // A failure of the endpoint is logged by it and leaves the federation running.
            services.append(
                .init(service: endpoint, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
        }
        services.append(
            .init(
                service: federation, successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup))
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            if case .failure(let failure) = federation.result { throw failure }
            throw error
        }
        switch federation.result {
        case .success(let summary): return summary
        case .failure(let failure): throw failure
        case nil: throw FederationServiceError(message: "the service group ended before the federation run did")
        }
    }

    /// The HTTP endpoint of `server.metrics_bind`, listening, or nil when it is off. The
    /// metrics backend is bootstrapped only then: without it swift-metrics is a no-op.
    private func startEndpoint(_ server: ServerSection, handle: ServerHandle) async throws -> ObservabilityServer? {
        guard let address = try server.metricsAddress else { return nil }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory.sextant(registry: registry))
        let endpoint = ObservabilityServer(
            address: address, registry: registry, logger: Logger(label: "sextant.metrics")
        ) {
            await handle.status()
        }
        try await endpoint.start()
        return endpoint
    }
}
