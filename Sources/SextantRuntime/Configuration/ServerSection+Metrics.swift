extension ServerSection {
    /// The parsed `metrics_bind`, nil when it is empty (no HTTP endpoints).
    package var metricsAddress: MetricsAddress? {
        get throws {
            guard !metricsBind.isEmpty else { return nil }
            guard let address = MetricsAddress(parsing: metricsBind) else {
                throw invalid(
                    "server.metrics_bind", "'\(metricsBind)'",
                    "use HOST:PORT with a numeric IPv4 address, localhost, * or [IPv6], and a port in 1...65535 (empty: off)"
                )
            }
            return address
        }
    }
}
