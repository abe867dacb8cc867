import ArgumentParser
import Foundation
import Logging
import SextantBenchmarks
import SextantClient
import SextantLauncher
import SextantRuntime
import SextantSimulation

/// `sextant bench load`: server cost as the number of clients grows (issue 7 item 5).
struct BenchLoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract:
            "One server and N real clients on this host: the server's memory, CPU per update and time per aggregation as N grows.",
        discussion: """
            For each client count, starts sextant-server and N clients as `sextant-client --sessions K` \
            processes (K clients each, every client with its own TCP connection), runs FedAvg over all N \
            with logreg on a Fashion-MNIST slice, and reads the server's resource usage (wait4) and its \
            checkpoint database. Wall-clock figures depend on what else the host runs.
            """)

    @Option(help: "Client counts to measure, comma-separated.") var clients = "50,100,200,500"
    @Option(help: "Aggregations (versions) per client count.") var versions = 20
    @Option(help: "Client sessions per client process.") var sessionsPerProcess = 50
    @Option(help: "Training images per client.") var samplesPerClient = 100
    @Option(help: "Local steps per round.") var localSteps = 5
    @Option(help: "Model: logreg (7,850 parameters) or mlp-large (10.2M, for the update path's throughput).")
    var model = "logreg"
    @Option(help: "server.max_concurrent_uploads.") var uploadSlots = 4
    @Option(help: "Where configurations, logs and databases go.") var output = "out/bench-load"
    @Option(help: "Directory of the sextant executables (default: this one's).") var bin: String?
    @Option(help: "Fashion-MNIST directory (default: Debian's).") var data: String?
    @Option(help: "Seconds one client count may take before its processes are stopped and it counts as failed.")
    var timeout = 1800.0
    @Flag(
        help:
            "Clients train nothing: each sends one delta made before the run, from a thread of this process, so updates/s is the server's acceptance rate."
    )
    var premadeDeltas = false
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() throws {
        let counts = clients.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ $0 != nil }) else {
            throw ValidationError("--clients takes comma-separated integers, e.g. 50,100,200,500")
        }
        let binDirectory =
            bin.map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        var settings = LoadBenchmark.Configuration(
            binDirectory: binDirectory, outputDirectory: URL(fileURLWithPath: output, isDirectory: true))
        settings.clientCounts = counts.compactMap { $0 }
        settings.versions = versions
        settings.sessionsPerProcess = sessionsPerProcess
        settings.samplesPerClient = samplesPerClient
        settings.localSteps = localSteps
        settings.model = model
        settings.uploadSlots = uploadSlots
        settings.dataDirectory = data
        settings.timeout = timeout
        settings.premadeDeltas = premadeDeltas
        var logger = Logger(label: "sextant.bench")
        logger.logLevel = .warning
        let benchmark = LoadBenchmark(configuration: settings, logger: logger)
        if !json { print(Self.header) }
        let results = try benchmark.run { result in
            guard !json else { return }
            print(Self.row(result))
            fflush(nil)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(results), as: UTF8.self))
        }
        if premadeDeltas, !json {
            for result in results {
                print(
                    String(
                        format:
                            "%d clients with pre-made deltas: the server accepted %.2f updates/s (target 10 for 10M)",
                        result.clients, result.updatesPerSecond))
            }
        }
        let failed = results.filter { !$0.problems.isEmpty }
        for result in failed {
            // On standard error, so that --json output stays one JSON document.
            FileHandle.standardError.write(
                Data("\(result.clients) clients: \(result.problems.joined(separator: "; "))\n".utf8))
        }
        if !failed.isEmpty { throw ExitCode.failure }
    }

    static let header = """
        clients  procs  versions  updates  peak MiB  serving MiB (start, max)  CPU s  CPU ms/update  first version s  s/aggregation (median, max)  aggregate ms  client CPU s  accuracy  updates/s
        """

    static func row(_ r: LoadBenchmark.Result) -> String {
        String(
            format:
                "%7d  %5d  %8d  %7d  %8.1f  %16.1f, %7.1f  %5.2f  %13.3f  %15.1f  %16.2f, %8.2f  %12.1f  %12.1f  %7.1f%%  %9.2f",
            r.clients, r.processes, r.versions, r.updatesStored, Double(r.serverPeakMemoryBytes) / 1_048_576,
            Double(r.serverResidentAtServingBytes) / 1_048_576, Double(r.serverPeakResidentServingBytes) / 1_048_576,
            r.serverCPUSeconds, r.serverCPUMillisecondsPerUpdate, r.secondsToFirstVersion,
            r.medianSecondsPerAggregation,
            r.maxSecondsPerAggregation, r.medianAggregateMilliseconds, r.clientCPUSeconds, (r.finalAccuracy ?? 0) * 100,
            r.updatesPerSecond)
    }
}
