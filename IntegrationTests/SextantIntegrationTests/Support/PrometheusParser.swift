import Foundation
import Testing

/// Prometheus text read by the reference parser, the Python client's
/// (`prometheus_client.parser.text_string_to_metric_families`, Debian's
/// python3-prometheus-client), so that the format is checked by code that is not ours.
struct PrometheusScrape {
    struct Sample: Decodable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Family: Decodable {
        var name: String
        var type: String
        var samples: [Sample]
    }

    var families: [Family]

    /// The value of sample `name` with exactly these labels, nil if absent.
    func value(_ name: String, labels: [String: String] = [:]) -> Double? {
        families.lazy.flatMap(\.samples).first { $0.name == name && $0.labels == labels }?.value
    }

    func family(_ name: String) -> Family? { families.first { $0.name == name } }

    /// The interpreter with Debian's packages: `SEXTANT_PYTHON`, or /usr/bin/python3 (a
    /// python3 first on PATH, e.g. pyenv's, does not see /usr/lib/python3/dist-packages).
    static var python: String {
        ProcessInfo.processInfo.environment["SEXTANT_PYTHON"] ?? "/usr/bin/python3"
    }

    private static let script = """
        import json, sys
        from prometheus_client.parser import text_string_to_metric_families
        families = [
            {"name": f.name, "type": f.type,
             "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]}
            for f in text_string_to_metric_families(sys.stdin.read())
        ]
        json.dump(families, sys.stdout)
        """

    /// Parses `text`; a parse error or a missing parser fails the test.
    static func parse(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> PrometheusScrape {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script]
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        // Small outputs (a few kB): reading to the end before waiting cannot dead-lock.
        let json = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(
            process.terminationStatus == 0,
            "the Prometheus parser refused the text (\(python); install Debian's python3-prometheus-client): \(stderr)\n\(text)",
            sourceLocation: sourceLocation)
        return PrometheusScrape(families: try JSONDecoder().decode([Family].self, from: json))
    }
}
