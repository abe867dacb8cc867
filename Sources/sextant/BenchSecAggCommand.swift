import ArgumentParser
import Foundation
import SextantBenchmarks
import SextantSecureAggregation

/// `sextant bench secagg`: secure aggregation's cost per member and per cohort beside plain
/// aggregation in the same run (docs/secure-aggregation.md).
struct BenchSecAggCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secagg",
        abstract: "Secure aggregation's per-member and per-cohort cost beside plain aggregation.")

    @Option(help: "Cohort sizes, comma-separated.") var members = "4,8,16,32,64,100"
    @Option(help: "Model sizes in parameters, comma-separated.") var parameters = "200000,10000000"
    @Option(help: "Largest cohort measured for models of a million parameters or more.") var largeCohortLimit = 16
    @Option(help: "Degree of the SecAgg+ graph (even); 0: the complete graph of SecAgg.") var degree = 0
    @Option(help: "Mask stream: aes-256-ctr or chacha20.") var stream = MaskStream.aesCTR.rawValue
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() throws {
        func list(_ text: String, _ name: String) throws -> [Int] {
            let values = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !values.isEmpty, values.allSatisfy({ $0 > 0 }), values.count == text.split(separator: ",").count
            else {
                throw ValidationError("--\(name) takes positive integers separated by commas, got \(text)")
            }
            return values
        }
        guard let maskStream = MaskStream(rawValue: stream) else {
            throw ValidationError("--stream must be aes-256-ctr or chacha20, got \(stream)")
        }
        var configuration = SecureAggregationBenchmark.Configuration()
        configuration.members = try list(members, "members")
        configuration.parameters = try list(parameters, "parameters")
        guard configuration.members.allSatisfy({ $0 >= 3 }) else {
            throw ValidationError("--members: a cohort needs at least 3 members")
        }
        configuration.largeCohortLimit = largeCohortLimit
        configuration.stream = maskStream
        if degree != 0 {
            guard degree >= 2, degree % 2 == 0 else {
                throw ValidationError("--degree must be even and >= 2, got \(degree)")
            }
            configuration.degree = degree
        }
        let benchmark = SecureAggregationBenchmark(configuration: configuration)
        let limits = try benchmark.measureStreams()
        var rows: [SecureAggregationBenchmark.Row] = []
        if !json {
            print(String(format: "memory bandwidth (y += a x, 10M floats): %.2f GB/s", limits.memoryBandwidth))
            for rate in limits.streams {
                print(
                    String(
                        format: "mask stream %@: %.2f GB/s = %.2f of memory bandwidth", rate.stream as NSString,
                        rate.gigabytesPerSecond, rate.gigabytesPerSecond / limits.memoryBandwidth))
            }
            print(
                "graph: \(configuration.degree.map { "SecAgg+ (degree \($0))" } ?? "complete (SecAgg)"), stream \(maskStream.rawValue)"
            )
            print(
                "members  parameters  t   drop  client s  (masks)  sent MB  recv MB  server s  plain MB  plain server s"
            )
        }
        for item in benchmark.cases {
            let row = try benchmark.run(members: item.members, parameters: item.parameters, dropouts: item.dropouts)
            rows.append(row)
            if !json {
                print(
                    String(
                        format: "%7d  %10d  %2d  %4d  %8.3f  %7.3f  %7.2f  %7.3f  %8.3f  %8.2f  %14.4f", row.members,
                        row.parameters, row.threshold, row.dropped, row.clientSeconds, row.clientMaskSeconds,
                        Double(row.clientBytesSent) / 1e6, Double(row.clientBytesReceived) / 1e6, row.serverSeconds,
                        Double(row.plainClientBytes) / 1e6, row.plainServerSeconds))
            }
        }
        let skipped = configuration.members.filter { $0 > largeCohortLimit }
        if !json, !skipped.isEmpty, configuration.parameters.contains(where: { $0 >= 1_000_000 }) {
            print("models of 1M+ parameters not run for cohorts \(skipped) (--large-cohort-limit \(largeCohortLimit))")
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let result = SecureAggregationBenchmark.Result(
                memoryBandwidth: limits.memoryBandwidth, streams: limits.streams, rows: rows)
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        }
    }
}
