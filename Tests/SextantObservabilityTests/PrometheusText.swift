/// The samples of a Prometheus text exposition, keyed by the sample as written
/// (`name{label="value"}`), and the `# TYPE` of each family. Enough to check values in
/// unit tests; the integration tests validate the format with the reference parser.
struct PrometheusText {
    var samples: [String: Double] = [:]
    var types: [String: String] = [:]

    init(_ text: String) throws {
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                types[String(parts[2])] = String(parts[3])
            } else if !line.hasPrefix("#") {
                // The value follows the last space (label values here contain none).
                guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                    throw ParseError(line: String(line))
                }
                samples[String(line[..<space])] = value
            }
        }
    }

    struct ParseError: Error {
        var line: String
    }
}
