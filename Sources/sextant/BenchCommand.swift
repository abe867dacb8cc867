import ArgumentParser
import Foundation
import Logging
import SextantBenchmarks
import SextantML
import SextantScheduling
import SextantWire

/// `sextant bench ...`: measurements of the hot paths against limits measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmark the hot paths against this machine's own limits.",
        subcommands: [
            BenchTrainCommand.self, BenchAggregateCommand.self, BenchWireCommand.self, BenchLoadCommand.self,
            BenchDurableCommand.self,
            BenchFloodCommand.self, BenchSecAggCommand.self, BenchReuseCommand.self,
        ])
}

struct BenchReuseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reuse",
        abstract:
            "Page faults and time of a message-sized buffer allocated, filled and freed, with the C library's defaults and with the large-buffer reuse the server and client turn on."
    )

    @Option(help: "The buffer's size in bytes (a 10M-parameter model: 40,000,000).") var bytes = 40_000_000
    @Option(help: "Rounds per mode after the first.") var rounds = 4
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() throws {
        guard bytes > 0, rounds > 0 else { throw ValidationError("--bytes and --rounds must be positive") }
        let result = BufferReuseBenchmark(bytes: bytes, rounds: rounds).run()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
            return
        }
        print("buffer \(result.bytes) bytes, \(result.pages) pages; rounds after the first")
        print("mode       faults per round (median)   ms per round (median)")
        for (name, mode) in [("defaults", result.fresh), ("reuse", result.reused)] {
            guard let mode else {
                print("\(name.padding(toLength: 10, withPad: " ", startingAt: 0)) not available in this C library")
                continue
            }
            let faults = mode.faults.sorted()[mode.faults.count / 2]
            let milliseconds = mode.seconds.sorted()[mode.seconds.count / 2] * 1000
            print(
                String(
                    format: "%-10@ %24d   %21.2f", name as NSString, faults, milliseconds))
        }
        if let reused = result.reused {
            let median = { (values: [Double]) in values.sorted()[values.count / 2] }
            print(
                String(
                    format: "a round under reuse takes %.2f of the defaults' time",
                    median(reused.seconds) / median(result.fresh.seconds)))
        }
    }
}

struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract:
            "Training throughput of the mlp and cnn, and the server's evaluation, as a share of the sgemm peak.")

    @Option(help: "Examples per mini-batch.") var batchSize = 64
    @Option(help: "OpenBLAS threads, for both the peak and training.") var threads = 1
    @Option(help: "Repetitions (the median is reported).") var repetitions = 5
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() throws {
        guard batchSize > 0, threads > 0, repetitions > 0 else {
            throw ValidationError("--batch-size, --threads and --repetitions must be positive")
        }
        setBLASThreads(threads)
        let benchmark = TrainingBenchmark(batchSize: batchSize, steps: 40, repetitions: repetitions)
        // The evaluation first: the peak's large products would prepare OpenBLAS's buffer for it.
        var evaluation = benchmark.runEvaluation(peak: 1)
        let peak = TrainingBenchmark.sgemmPeak()
        evaluation.ratioOfPeak = evaluation.gflops / peak
        let results = [ModelArchitecture.mlp, .cnn].map { benchmark.run($0, peak: peak) } + [evaluation]
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
        print(
            String(
                format: "sgemm peak (1024^3, %d thread%@): %.1f GFLOP per CPU-second", threads, threads == 1 ? "" : "s",
                peak))
        print("model  pass      batch  samples/CPU-s  samples/s   GFLOP/CPU-s   of peak")
        for r in results {
            print(
                String(
                    format: "%-5@  %-8@  %5d  %13.0f  %9.0f  %12.1f   %6.1f%%", r.model as NSString,
                    r.pass as NSString, r.batchSize, r.samplesPerCPUSecond, r.samplesPerSecond, r.gflops,
                    r.ratioOfPeak * 100))
        }
    }
}

struct BenchAggregateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aggregate", abstract: "Aggregation throughput as a share of the measured memory bandwidth.")

    @Option(help: "Model parameters.") var parameters = 10_000_000
    @Option(help: "Deltas per aggregation.") var deltas = 8
    @Option(help: "Repetitions (the median is reported).") var repetitions = 5
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() throws {
        guard parameters > 0, deltas > 0, repetitions > 0 else {
            throw ValidationError("--parameters, --deltas and --repetitions must be positive")
        }
        let result = AggregationBenchmark(parameters: parameters, deltas: deltas, repetitions: repetitions).run()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
            return
        }
        print(String(format: "memory bandwidth (y += a x, %d floats): %.2f GB/s", parameters, result.memoryBandwidth))
        print(
            String(
                format: "aggregation of %d deltas: %.2f GB/s = %.2f of memory bandwidth, %.2f ms per delta",
                deltas, result.aggregationBandwidth, result.ratio, result.secondsPerDelta * 1000))
        let limit = Double(4 * parameters * deltas) / (result.memoryBandwidth * 1e9)
        for (rule, seconds) in result.robustSeconds.sorted(by: { $0.value < $1.value }) {
            let name = rule.padding(toLength: 13, withPad: " ", startingAt: 0)
            print(
                name
                    + String(
                        format: "%8.1f ms per aggregation = %6.1fx one read of every delta at memory bandwidth",
                        seconds * 1000, seconds / limit))
        }
    }
}

struct BenchWireCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wire", abstract: "A delta's round trip over loopback TCP as a share of raw libzmq throughput.")

    @Option(help: "Parameters in the delta.") var parameters = 10_000_000
    @Option(help: "Round trips per repetition.") var roundTrips = 4
    @Option(help: "Repetitions (the median is reported).") var repetitions = 5
    @Flag(help: "Encrypt the Sextant path with CURVE (the raw baseline stays plain): what encryption costs.")
    var curve = false

    func run() async throws {
        guard parameters > 0, roundTrips > 0, repetitions > 0 else {
            throw ValidationError("--parameters, --round-trips and --repetitions must be positive")
        }
        var logger = Logger(label: "sextant.bench")
        logger.logLevel = .warning
        let benchmark = WireBenchmark(
            configuration: .init(
                payloadCount: parameters, roundTripsPerRepetition: roundTrips, repetitions: repetitions, curve: curve),
            logger: logger)
        let result = try await benchmark.run()
        print(
            String(
                format: "raw libzmq round trip (%d MB each way): %.2f GB/s", result.payloadBytes / 1_000_000,
                result.rawGigabytesPerSecond))
        print(
            String(
                format: "sextant update + assignment round trip%@: %.2f GB/s = %.2f of raw", curve ? " with CURVE" : "",
                result.sextantGigabytesPerSecond, result.ratio))
    }
}
