import Prometheus
import SextantRuntime
import SextantServer

extension PrometheusMetricsFactory {
    /// A factory writing into `registry`, with the histogram buckets that
    /// ``ServerMetrics`` asks for (staleness and group sizes are small integers, an
    /// aggregation takes milliseconds to seconds).
    package static func sextant(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets = ServerMetrics.valueHistogramBuckets
        factory.durationHistogramBuckets = ServerMetrics.durationHistogramBuckets
        return factory
    }
}
