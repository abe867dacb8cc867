import ArgumentParser
import Foundation
import SextantML

/// `sextant bench ...`: measurements of the hot paths against limits measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmark the hot paths against this machine's own limits.",
        subcommands: [BenchTrainCommand.self])
}

struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Training throughput of the mlp and cnn as a share of the sgemm peak.")

    @Option(help: "Examples per mini-batch.") var batchSize = 64
    @Option(help: "OpenBLAS threads, for both the peak and training.") var threads = 1
    @Option(help: "Repetitions (the median is reported).") var repetitions = 5
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() throws {
        guard batchSize > 0, threads > 0, repetitions > 0 else {
            throw ValidationError("--batch-size, --threads and --repetitions must be positive")
        }
        setBLASThreads(threads)
        let peak = TrainingBenchmark.sgemmPeak()
        let benchmark = TrainingBenchmark(batchSize: batchSize, steps: 40, repetitions: repetitions)
        let results = [ModelArchitecture.mlp, .cnn].map { benchmark.run($0, peak: peak) }
        if json {
            struct Report: Codable {
                var threads: Int
                var sgemmPeakGflops: Double
                var results: [TrainingBenchmark.Result]
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(Report(threads: threads, sgemmPeakGflops: peak, results: results))
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print(String(format: "sgemm peak (1024^3, %d thread%@): %.1f GFLOP/s", threads, threads == 1 ? "" : "s", peak))
        print("model  batch   samples/s   GFLOP/s   of peak")
        for r in results {
            print(
                String(
                    format: "%-5@  %5d  %10.0f  %8.1f   %6.1f%%", r.model as NSString, r.batchSize, r.samplesPerSecond, r.gflops,
                    r.ratioOfPeak * 100))
        }
    }
}
