import Metrics
import SextantRuntime
import SextantWire

/// The server's metrics, through the swift-metrics API: the backend is whatever factory
/// the process bootstrapped (Prometheus in `sextant-server`) or one a test injects.
///
/// Sendable: swift-metrics' metric objects are; their handlers synchronise themselves.
/// Every method is a few atomic updates, cheap enough for the message path.
package struct ServerMetrics: Sendable {
    /// The metric names; Prometheus' conventions: `_total` on counters, units in the name.
    package enum Name {
        package static let connectedClients = "sextant_connected_clients"
        package static let aggregations = "sextant_aggregations_total"
        package static let modelVersion = "sextant_model_version"
        package static let updatesReceived = "sextant_updates_received_total"
        package static let updatesRejected = "sextant_updates_rejected_total"
        package static let messagesRejected = "sextant_messages_rejected_total"
        package static let updateStaleness = "sextant_update_staleness"
        package static let receivedBytes = "sextant_received_bytes_total"
        package static let sentBytes = "sextant_sent_bytes_total"
        package static let aggregationDuration = "sextant_aggregation_duration_seconds"
        package static let accuracy = "sextant_accuracy"
        package static let epsilon = "sextant_epsilon"
        package static let arrivalGroupSize = "sextant_arrival_group_size"
        /// Secure aggregation's cohorts by outcome (`completed`, `abandoned`), and the
        /// members that dropped from completed ones (docs/design.md 13).
        package static let secureCohorts = "sextant_secure_aggregation_cohorts_total"
        package static let secureDroppedMembers = "sextant_secure_aggregation_dropped_members_total"
    }

    /// Histogram buckets per metric, for a backend that asks (the Prometheus factory's
    /// defaults, 5 to 10 000, suit request sizes, not staleness or group sizes).
    package static let valueHistogramBuckets: [String: [Double]] = [
        Name.updateStaleness: [0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32],
        Name.arrivalGroupSize: [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128],
    ]
    /// Aggregation takes milliseconds (a small MLP) to seconds (a large CNN with DP).
    package static let durationHistogramBuckets: [String: [Duration]] = [
        Name.aggregationDuration: [
            .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .seconds(2.5), .seconds(5), .seconds(10),
        ]
    ]

    private let factory: any MetricsFactory
    private let connectedClients: Gauge
    private let aggregations: Counter
    private let modelVersion: Gauge
    private let updatesReceived: Counter
    private let staleness: Recorder
    private let receivedBytes: Counter
    private let sentBytes: Counter
    private let aggregationDuration: Metrics.Timer
    private let accuracy: Gauge
    private let arrivalGroupSize: Recorder

    /// - Parameter factory: where the metrics go; by default the process's bootstrapped one
    ///   (a no-op until `MetricsSystem.bootstrap`, so a server without metrics pays nothing).
    package init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        connectedClients = Gauge(label: Name.connectedClients, factory: factory)
        aggregations = Counter(label: Name.aggregations, factory: factory)
        modelVersion = Gauge(label: Name.modelVersion, factory: factory)
        updatesReceived = Counter(label: Name.updatesReceived, factory: factory)
        staleness = Recorder(label: Name.updateStaleness, aggregate: true, factory: factory)
        receivedBytes = Counter(label: Name.receivedBytes, factory: factory)
        sentBytes = Counter(label: Name.sentBytes, factory: factory)
        aggregationDuration = Metrics.Timer(label: Name.aggregationDuration, factory: factory)
        accuracy = Gauge(label: Name.accuracy, factory: factory)
        arrivalGroupSize = Recorder(label: Name.arrivalGroupSize, aggregate: true, factory: factory)
        // Counters start at 0 in the backend; these make the first scrape show the run's state.
        connectedClients.record(0)
        modelVersion.record(0)
    }

    /// A version's federated evaluation: one gauge per metric, `sextant_federated_<name>`.
    package func federatedEvaluation(_ values: [String: Double]) {
        for (name, value) in values {
            Gauge(label: "sextant_federated_\(name)", factory: factory).record(value)
        }
    }

    /// At start or resume: the version the model is at, its accuracy and epsilon if known.
    package func started(version: Int, accuracy: Double?, epsilon: Double?) {
        modelVersion.record(version)
        if let accuracy { self.accuracy.record(accuracy) }
        if let epsilon { record(epsilon: epsilon) }
    }

    package func clientsConnected(_ count: Int) {
        connectedClients.record(count)
    }

    /// A ROUTER message arrived: every frame, the routing id included.
    package func received(bytes: Int) {
        receivedBytes.increment(by: bytes)
    }

    /// A message went to the socket: every frame, the routing id included.
    package func sent(bytes: Int) {
        sentBytes.increment(by: bytes)
    }

    /// An update was stored for the scheduler (a resent duplicate is not counted again).
    package func updateReceived() {
        updatesReceived.increment()
    }

    /// The server answered a message with an error. Updates and other messages are
    /// counted apart, each by the error code's name.
    package func rejected(_ code: ErrorReplyMessage.Code, isUpdate: Bool) {
        let name = isUpdate ? Name.updatesRejected : Name.messagesRejected
        // The backend hands back the same counter for the same name and labels.
        Counter(label: name, dimensions: [("reason", "\(code)")], factory: factory).increment()
    }

    /// An aggregation was committed.
    /// - Parameters:
    ///   - staleness: of every update it applied.
    ///   - epsilon: the privacy spent so far, nil without differential privacy.
    package func aggregated(
        version: Int, staleness: [Int], duration: Duration, accuracy: Double?, epsilon: Double?
    ) {
        aggregations.increment()
        modelVersion.record(version)
        for value in staleness { self.staleness.record(value) }
        arrivalGroupSize.record(staleness.count)
        aggregationDuration.record(duration: duration)
        if let accuracy { self.accuracy.record(accuracy) }
        if let epsilon { record(epsilon: epsilon) }
    }

    /// A secure aggregation cohort ended: unmasked (with `dropped` members that dropped from
    /// it), or abandoned. Made on first use: a run without it has no such series.
    package func cohortEnded(completed: Bool, dropped: Int = 0) {
        Counter(
            label: Name.secureCohorts, dimensions: [("outcome", completed ? "completed" : "abandoned")],
            factory: factory
        ).increment()
        if completed { Counter(label: Name.secureDroppedMembers, factory: factory).increment(by: dropped) }
    }

    /// Made on first use, so that a run without differential privacy has no epsilon
    /// series at all rather than a misleading 0 (the backend returns the same gauge).
    private func record(epsilon: Double) {
        Gauge(label: Name.epsilon, factory: factory).record(epsilon)
    }
}
