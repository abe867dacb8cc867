import Prometheus
import SextantObservability
import SextantRuntime
import SextantServer
import SextantWire
import Testing

/// The metrics a sequence of server events leaves, read back as Prometheus text from a
/// registry of the test's own (MetricsSystem.bootstrap can run once per process only).
@Suite struct ServerMetricsTests {
    let registry = PrometheusCollectorRegistry()
    let metrics: ServerMetrics

    init() {
        metrics = ServerMetrics(factory: PrometheusMetricsFactory.sextant(registry: registry))
    }

    func scrape() throws -> PrometheusText {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return try PrometheusText(String(decoding: buffer, as: UTF8.self))
    }

    @Test func aFreshServerShowsItsStartingState() throws {
        metrics.started(version: 5, accuracy: 0.7, epsilon: nil)
        let text = try scrape()
        #expect(text.samples["sextant_model_version"] == 5)
        #expect(text.samples["sextant_connected_clients"] == 0)
        #expect(text.samples["sextant_accuracy"] == 0.7)
        #expect(text.samples["sextant_aggregations_total"] == 0)
        #expect(text.samples["sextant_updates_received_total"] == 0)
        // Epsilon is only a metric of runs with differential privacy.
        #expect(text.samples["sextant_epsilon"] == nil)
        #expect(text.types["sextant_epsilon"] == nil)
    }

    /// Secure aggregation's cohorts, by outcome, and the members that dropped from those
    /// unmasked; a run without it has no such series.
    @Test func secureAggregationCohortsAreCountedByOutcome() throws {
        metrics.started(version: 0, accuracy: nil, epsilon: nil)
        #expect(try scrape().types["sextant_secure_aggregation_cohorts_total"] == nil)
        metrics.cohortEnded(completed: true, dropped: 0)
        metrics.cohortEnded(completed: true, dropped: 2)
        metrics.cohortEnded(completed: false)
        let text = try scrape()
        #expect(text.samples[#"sextant_secure_aggregation_cohorts_total{outcome="completed"}"#] == 2)
        #expect(text.samples[#"sextant_secure_aggregation_cohorts_total{outcome="abandoned"}"#] == 1)
        #expect(text.samples["sextant_secure_aggregation_dropped_members_total"] == 2)
    }

    @Test func aSequenceOfEventsIsCounted() throws {
        metrics.started(version: 0, accuracy: nil, epsilon: nil)
        metrics.clientsConnected(1)
        metrics.clientsConnected(2)
        metrics.received(bytes: 4_000)
        metrics.received(bytes: 96)
        metrics.sent(bytes: 3_000)
        for _ in 0..<3 { metrics.updateReceived() }
        metrics.rejected(.wrongPayloadSize, isUpdate: true)
        metrics.rejected(.wrongPayloadSize, isUpdate: true)
        metrics.rejected(.notJoined, isUpdate: true)
        metrics.rejected(.fingerprintMismatch, isUpdate: false)
        metrics.aggregated(version: 1, staleness: [0, 0, 1], duration: .milliseconds(30), accuracy: 0.5, epsilon: nil)
        metrics.clientsConnected(1)
        metrics.aggregated(version: 2, staleness: [3], duration: .milliseconds(1500), accuracy: 0.625, epsilon: 1.25)

        let text = try scrape()
        let expected: [String: Double] = [
            "sextant_connected_clients": 1,
            "sextant_model_version": 2,
            "sextant_aggregations_total": 2,
            "sextant_updates_received_total": 3,
            #"sextant_updates_rejected_total{reason="wrongPayloadSize"}"#: 2,
            #"sextant_updates_rejected_total{reason="notJoined"}"#: 1,
            #"sextant_messages_rejected_total{reason="fingerprintMismatch"}"#: 1,
            "sextant_received_bytes_total": 4_096,
            "sextant_sent_bytes_total": 3_000,
            "sextant_accuracy": 0.625,
            "sextant_epsilon": 1.25,
            // Staleness 0, 0, 1, 3: cumulative buckets.
            #"sextant_update_staleness_bucket{le="0.0"}"#: 2,
            #"sextant_update_staleness_bucket{le="1.0"}"#: 3,
            #"sextant_update_staleness_bucket{le="2.0"}"#: 3,
            #"sextant_update_staleness_bucket{le="3.0"}"#: 4,
            #"sextant_update_staleness_bucket{le="+Inf"}"#: 4,
            "sextant_update_staleness_count": 4,
            "sextant_update_staleness_sum": 4,
            // Groups of 3 and 1 updates.
            #"sextant_arrival_group_size_bucket{le="1.0"}"#: 1,
            #"sextant_arrival_group_size_bucket{le="2.0"}"#: 1,
            #"sextant_arrival_group_size_bucket{le="3.0"}"#: 2,
            "sextant_arrival_group_size_count": 2,
            "sextant_arrival_group_size_sum": 4,
            // 30 ms and 1.5 s, in seconds.
            #"sextant_aggregation_duration_seconds_bucket{le="0.025"}"#: 0,
            #"sextant_aggregation_duration_seconds_bucket{le="0.05"}"#: 1,
            #"sextant_aggregation_duration_seconds_bucket{le="1.0"}"#: 1,
            #"sextant_aggregation_duration_seconds_bucket{le="2.5"}"#: 2,
            "sextant_aggregation_duration_seconds_count": 2,
            "sextant_aggregation_duration_seconds_sum": 1.53,
        ]
        for (sample, value) in expected.sorted(by: { $0.key < $1.key }) {
            let found = try #require(text.samples[sample], "no sample \(sample) in \(text.samples.keys.sorted())")
            // The duration sum is a decimal rendering of a Duration: equal to 1e-9.
            #expect(abs(found - value) < 1e-9, "\(sample) is \(found), expected \(value)")
        }
        #expect(text.types["sextant_aggregations_total"] == "counter")
        #expect(text.types["sextant_updates_rejected_total"] == "counter")
        #expect(text.types["sextant_connected_clients"] == "gauge")
        #expect(text.types["sextant_update_staleness"] == "histogram")
        #expect(text.types["sextant_aggregation_duration_seconds"] == "histogram")
        #expect(text.types["sextant_arrival_group_size"] == "histogram")
    }
}
