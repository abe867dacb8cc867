import ArgumentParser
import Foundation
import SextantBenchmarks

/// `sextant bench durable`: the durable update path against this disk's fdatasync bandwidth.
struct BenchDurableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "durable",
        abstract: "How fast updates become durable, as a share of this disk's write+fdatasync bandwidth.",
        discussion: """
            For each model size, writes and fdatasyncs files of one delta's size in --directory (the disk's own \
            bandwidth), then records the same number of updates into a checkpoint database there, their deltas \
            appended to its delta segments, one at a time ("store") and all of them as one group commit \
            ("group", as the server stores updates that arrive together), and commits the checkpoint that \
            applies them, as a SQLite blob and as a file beside the database (the server keeps checkpoints from \
            2 MiB in files); interleaved, medians of --repetitions.
            """)

    @Option(help: "Model sizes (parameters), comma-separated.") var parameters = "200000,10000000"
    @Option(help: "Updates per repetition.") var updates = 8
    @Option(help: "Repetitions (the median is reported).") var repetitions = 3
    @Option(help: "Directory on the disk to measure (its files are removed afterwards).")
    var directory = "out/bench-durable"
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() throws {
        let counts = parameters.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--parameters takes comma-separated positive integers, e.g. 200000,10000000")
        }
        var settings = DurableBenchmark.Configuration(directory: URL(fileURLWithPath: directory, isDirectory: true))
        settings.parameterCounts = counts.compactMap { $0 }
        settings.updates = updates
        settings.repetitions = repetitions
        let results = try DurableBenchmark(configuration: settings).run()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(results), as: UTF8.self))
            return
        }
        print("parameters      MB   disk GB/s   store (ratio)   group (ratio)   ckpt blob (ratio)   ckpt file (ratio)")
        for r in results {
            print(
                String(
                    format: "%10d  %6.1f  %10.2f  %6.2f (%5.2f)  %6.2f (%5.2f)  %10.2f (%5.2f)  %10.2f (%5.2f)",
                    r.parameters, Double(r.bytes) / 1e6, r.diskBandwidth / 1e9, r.storeBandwidth / 1e9, r.ratio,
                    r.groupBandwidth / 1e9, r.groupRatio, r.checkpointBlobBandwidth / 1e9, r.checkpointBlobRatio,
                    r.checkpointFileBandwidth / 1e9, r.checkpointFileRatio))
        }
    }
}
