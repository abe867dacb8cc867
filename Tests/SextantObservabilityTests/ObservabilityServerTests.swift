import Foundation
import Logging
import Prometheus
import SextantObservability
import SextantRuntime
import SextantServer
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The HTTP endpoints over real loopback TCP, on a port the kernel picks.
@Suite struct ObservabilityServerTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    static let loopback = MetricsAddress(host: "127.0.0.1", port: 0, family: .ipv4)

    static let status = ServerStatus(
        runID: "t-1", status: "running", modelVersion: 3, maxVersions: 10, accuracy: 0.5, epsilon: nil,
        scheduler: "fedavg",
        uptimeSeconds: 12,
        clients: [
            .init(name: "<script>alert(1)</script>", samples: 10, peer: "127.0.0.1", lastSeen: Date(), idleSeconds: 1)
        ])

    /// Starts an endpoint, runs `body` with its base URL, stops it.
    func withEndpoint(
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        status: @escaping ObservabilityServer.StatusProvider = { ObservabilityServerTests.status },
        _ body: (URL) async throws -> Void
    ) async throws {
        let endpoint = ObservabilityServer(
            address: Self.loopback, registry: registry, logger: Self.logger, status: status)
        try await endpoint.start()
        let port = try #require(await endpoint.port)
        do {
            try await body(URL(string: "http://127.0.0.1:\(port)")!)
        } catch {
            await endpoint.stop()
            throw error
        }
        await endpoint.stop()
    }

    func get(_ url: URL) async throws -> (body: String, status: Int, contentType: String?) {
        let (data, response) = try await URLSession.shared.data(from: url)
        let http = try #require(response as? HTTPURLResponse)
        return (String(decoding: data, as: UTF8.self), http.statusCode, http.value(forHTTPHeaderField: "Content-Type"))
    }

    @Test func metricsAreServedAsPrometheusText() async throws {
        let registry = PrometheusCollectorRegistry()
        let metrics = ServerMetrics(factory: PrometheusMetricsFactory.sextant(registry: registry))
        metrics.updateReceived()
        metrics.aggregated(version: 1, staleness: [0], duration: .milliseconds(3), accuracy: 0.4, epsilon: nil)
        try await withEndpoint(registry: registry) { base in
            let reply = try await get(base.appendingPathComponent("metrics"))
            #expect(reply.status == 200)
            #expect(reply.contentType?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = try PrometheusText(reply.body)
            #expect(text.samples["sextant_updates_received_total"] == 1)
            #expect(text.samples["sextant_model_version"] == 1)
        }
    }

    @Test func statusIsServedAsJSON() async throws {
        try await withEndpoint { base in
            let reply = try await get(base.appendingPathComponent("status"))
            #expect(reply.status == 200)
            #expect(reply.contentType == "application/json")
            let decoded = try ServerStatus.makeDecoder().decode(ServerStatus.self, from: Data(reply.body.utf8))
            #expect(decoded.runID == "t-1")
            #expect(decoded.clients.count == 1)
        }
    }

    @Test func thePageRefreshesItselfAndEscapesClientNames() async throws {
        try await withEndpoint { base in
            let reply = try await get(base)
            #expect(reply.status == 200)
            #expect(reply.contentType == "text/html; charset=utf-8")
            #expect(reply.body.contains(#"<meta http-equiv="refresh" content="2">"#))
            #expect(reply.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(!reply.body.contains("<script>"))
            #expect(!reply.body.contains("http://") && !reply.body.contains("https://"), "no external assets")
        }
    }

    @Test func beforeTheServerExistsStatusIsUnavailable() async throws {
        try await withEndpoint(status: { nil }) { base in
            let status = try await get(base.appendingPathComponent("status"))
            #expect(status.status == 503)
            let page = try await get(base)
            #expect(page.body.contains("starting"))
        }
    }

    @Test func unknownPathsAreNotFound() async throws {
        try await withEndpoint { base in
            let reply = try await get(base.appendingPathComponent("nothing"))
            #expect(reply.status == 404)
        }
    }

    /// A taken port is an error at start that names the key, not a silent endpoint-less run.
    @Test func aTakenAddressNamesTheKey() async throws {
        try await withEndpoint { base in
            let taken = MetricsAddress(host: "127.0.0.1", port: UInt16(base.port!), family: .ipv4)
            let second = ObservabilityServer(
                address: taken, registry: PrometheusCollectorRegistry(), logger: Self.logger, status: { nil })
            do {
                try await second.start()
                Issue.record("a second endpoint started on the same port")
                await second.stop()
            } catch let error as RuntimeError {
                #expect(error.message.contains("key 'server.metrics_bind' has value '\(taken)'"), "\(error.message)")
                #expect(error.message.contains("in use"), "\(error.message)")
            }
        }
    }
}
