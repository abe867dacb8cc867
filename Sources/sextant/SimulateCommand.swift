import ArgumentParser
import Foundation
import Logging
import SextantBenchmarks
import SextantClient
import SextantLauncher
import SextantML
import SextantRuntime
import SextantScheduling
import SextantSimulation

/// `sextant simulate`: the schedulers compared on a virtual clock with real training.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract:
            "Compare scheduling algorithms on a virtual clock: clients really train, their compute time is simulated.",
        discussion: """
            Each algorithm runs the federation of --config from the same initial model, with the configuration's \
            scheduler section and its kind replaced. Writes results.csv, summary.md and accuracy.svg into --output.
            With --seeds N > 1 the whole comparison runs under N seeds (run.seed, run.seed + 1, ...: the \
            partition, the client speeds, the initial model and the batches all change), each into \
            --output/seed-S, and seeds.md and seeds.csv in --output give each algorithm's median time to the \
            target with its confidence interval and the share of seeds reaching it.
            """)

    @Option(help: "The federation's YAML configuration.") var config: String
    @Option(help: "Comma-separated algorithms: compass, fedavg, fedavgm, fedasync, fedbuff.")
    var algorithms = "compass,fedavg,fedasync,fedbuff,fedavgm"
    @Option(help: "Directory for results.csv, summary.md and accuracy.svg.") var output = "out/simulate"
    @Option(help: "Accuracy whose first crossing the table reports (default: stop.target_accuracy; 0: none).")
    var targetAccuracy: Double?
    @Option(help: "Virtual seconds each algorithm runs (default: stop.max_seconds, or unlimited if 0).")
    var maxTime: Double?
    @Option(help: "Model versions each algorithm may produce at most (default: stop.max_versions).")
    var maxVersions: Int?
    @Option(help: "Virtual seconds of communication per task.") var latency = 0.0
    @Option(help: "Relative standard deviation of each task's compute time.") var jitter = 0.05
    @Option(help: "Evaluate every k-th model version (the last one always).") var evaluateEvery = 1
    @Option(help: "Title of the plot and the summary (default: the configuration's run.name).") var title: String?
    @Option(help: "The first N clients attack: each sends its delta times --attack-scale.") var attackers = 0
    @Option(help: "What attackers multiply their delta by (negative: sign-flipped).") var attackScale = -4.0
    @Option(
        help:
            "Aggregation rule, replacing server.robust_aggregation: mean, norm_bound, median, trimmed_mean, multi_krum."
    )
    var robustAggregation: String?
    @Option(help: "Seeds to run the comparison under (run.seed, run.seed + 1, ...).") var seeds = 1
    @Option(help: "Processes to spread the seeds over (each runs one seed at a time).") var processes = 1
    @Option(help: "Consecutive evaluations at or above the target for the robust time to target.") var held = 3
    @Flag(help: "Stop each algorithm once the target has held for --held consecutive evaluations.")
    var stopWhenHeld = false
    @Option(help: .hidden) var onlySeed: UInt64?
    @Option(help: "OpenBLAS threads.") var threads = 1
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"

    func run() throws {
        try LogSetup.bootstrap(level: try LogSetup.level(named: logLevel))
        let logger = Logger(label: "sextant.simulate")
        guard threads > 0 else { throw ValidationError("--threads must be positive, got \(threads)") }
        guard seeds > 0, processes > 0, held > 0 else {
            throw ValidationError(
                "--seeds, --processes and --held must be positive, got \(seeds), \(processes), \(held)")
        }
        setBLASThreads(threads)
        let kinds = try ExperimentRunner.algorithms(named: algorithms)
        var configuration = try FederationConfiguration.load(from: URL(fileURLWithPath: config))
        if let robustAggregation { configuration.server.robustAggregation = robustAggregation }
        let target = targetAccuracy ?? configuration.stop.targetAccuracy
        guard target >= 0, target <= 1 else {
            throw ValidationError("--target-accuracy must lie in [0, 1], got \(target)")
        }
        if let onlySeed { configuration.run.seed = onlySeed }
        if let ignored = ExperimentRunner.unmodelledPrivacy(configuration.privacy) {
            logger.warning(
                "sextant simulate trains without \(ignored): its curves are those of the run without it; run the federation (sextant launch) to see its effect"
            )
        }
        guard seeds > 1, onlySeed == nil else {
            let report = try simulate(configuration, kinds: kinds, target: target, into: output, logger: logger)
            print(report.table)
            print(report.costTable)
            if onlySeed != nil { try write(report.outcomes, into: output) }
            print(
                "wrote \(URL(fileURLWithPath: output).appendingPathComponent("results.csv").path), summary.md and accuracy.svg"
            )
            return
        }
        guard target > 0 else {
            throw ValidationError("--seeds needs a target accuracy (--target-accuracy or stop.target_accuracy)")
        }
        let seedList = (0..<UInt64(seeds)).map { configuration.run.seed &+ $0 }
        let cpuStart = BenchmarkTiming.processCPUSeconds()
        var runs: [(seed: UInt64, outcomes: [AlgorithmOutcome])] = []
        if processes == 1 {
            for seed in seedList {
                var seeded = configuration
                seeded.run.seed = seed
                let report = try simulate(
                    seeded, kinds: kinds, target: target, into: seedDirectory(seed), logger: logger)
                runs.append((seed, report.outcomes))
            }
        } else {
            runs = try spawnSeeds(seedList)
        }
        let sweep = SeedSweep(target: target, held: held, runs: runs)
        let cpuSeconds = BenchmarkTiming.processCPUSeconds() - cpuStart + childrenCPUSeconds()
        let setup = """
            - configuration: `\(config)` (model \(configuration.model.displayName), \(configuration.data.partition) partition, \
            \(configuration.clients.count) clients, \(configuration.clients.speedDistribution) speeds), \
            seeds \(seedList.map(String.init).joined(separator: ", "))
            - algorithms: \(kinds.map(\.rawValue).joined(separator: ", ")); each seed's curves in seed-S/
            - CPU time of the whole sweep: \(SimulationReport.format(cpuSeconds, digits: 0)) s \
            (\(processes) process\(processes == 1 ? "" : "es"))
            """
        try sweep.write(to: URL(fileURLWithPath: output), title: title ?? configuration.run.name, setup: setup)
        print(sweep.table)
        print("CPU time: \(SimulationReport.format(cpuSeconds, digits: 0)) s")
        print("wrote \(URL(fileURLWithPath: output).appendingPathComponent("seeds.md").path) and seeds.csv")
    }

    private func seedDirectory(_ seed: UInt64) -> String {
        URL(fileURLWithPath: output).appendingPathComponent("seed-\(seed)").path
    }

    /// Runs every algorithm on `configuration` and writes its results into `directory`.
    private func simulate(
        _ configuration: FederationConfiguration, kinds: [SchedulerKind], target: Double, into directory: String,
        logger: Logger
    ) throws -> SimulationReport {
        let budget = maxTime ?? (configuration.stop.maxSeconds > 0 ? configuration.stop.maxSeconds : .infinity)
        var options = ExperimentRunner.Options(
            algorithms: kinds, maxTime: budget, maxVersions: maxVersions ?? configuration.stop.maxVersions,
            latency: latency,
            jitter: jitter, evaluateEvery: evaluateEvery)
        options.attackers = attackers
        options.attackScale = attackScale
        if stopWhenHeld {
            guard target > 0 else {
                throw ValidationError(
                    "--stop-when-held needs a target accuracy (--target-accuracy or stop.target_accuracy)")
            }
            options.stopTarget = target
            options.stopHeld = held
        }
        let runner = try ExperimentRunner(configuration: configuration, options: options)
        let speeds = runner.secondsPerStep.map { String(format: "%.3f", $0) }.joined(separator: ", ")
        print(
            "simulating \(kinds.map(\.rawValue).joined(separator: ", ")) on \(runner.clientData.count) clients "
                + "(\(configuration.model.displayName), \(configuration.data.partition) partition, \(configuration.clients.speedDistribution) speeds, seed \(configuration.run.seed))"
        )
        print("seconds per step: \(speeds)")
        var report = try runner.run(logger: logger)
        report.targetAccuracy = target > 0 ? target : nil
        let name = title ?? configuration.run.name
        let setup = """
            - configuration: `\(config)` (model \(configuration.model.displayName), \(configuration.data.partition) partition, \
            \(runner.clientData.count) clients, \(configuration.clients.speedDistribution) speeds, seed \(configuration.run.seed))
            - client seconds per step: \(speeds)
            - budget: \(budget.isFinite ? "\(budget) virtual seconds" : "unlimited time"), \(options.maxVersions) versions\
            \(stopWhenHeld ? ", or until the target has held for \(held) evaluations" : ""); \
            latency \(latency) s, jitter \(jitter), evaluation every \(evaluateEvery) version(s) on \(runner.testSet.count) test examples
            """
        try report.write(to: URL(fileURLWithPath: directory), title: name, setup: setup)
        return report
    }

    /// The outcomes a child process hands back to its parent.
    private func write(_ outcomes: [AlgorithmOutcome], into directory: String) throws {
        let data = try JSONEncoder().encode(outcomes)
        try data.write(to: URL(fileURLWithPath: directory).appendingPathComponent("outcomes.json"))
    }

    /// Runs each seed in a child `sextant simulate --only-seed S`, at most --processes at a
    /// time, and reads back their outcomes.
    private func spawnSeeds(_ seedList: [UInt64]) throws -> [(seed: UInt64, outcomes: [AlgorithmOutcome])] {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var runs: [(seed: UInt64, outcomes: [AlgorithmOutcome])] = []
        var start = 0
        while start < seedList.count {
            let batch = seedList[start..<min(start + processes, seedList.count)]
            start += batch.count
            var children: [(seed: UInt64, process: Process)] = []
            for seed in batch {
                let directory = seedDirectory(seed)
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                let log = URL(fileURLWithPath: directory).appendingPathComponent("simulate.log")
                _ = FileManager.default.createFile(atPath: log.path, contents: nil)
                let process = Process()
                process.executableURL = executable
                process.arguments =
                    Array(CommandLine.arguments.dropFirst()) + [
                        "--seeds", "1", "--processes", "1", "--only-seed", "\(seed)", "--output", directory,
                    ]
                let handle = try FileHandle(forWritingTo: log)
                process.standardOutput = handle
                process.standardError = handle
                try process.run()
                children.append((seed, process))
            }
            for child in children {
                child.process.waitUntilExit()
                guard child.process.terminationStatus == 0 else {
                    throw RuntimeError(
                        .invalidConfiguration,
                        "the simulation of seed \(child.seed) failed (exit \(child.process.terminationStatus)); see \(seedDirectory(child.seed))/simulate.log"
                    )
                }
                let data = try Data(
                    contentsOf: URL(fileURLWithPath: seedDirectory(child.seed)).appendingPathComponent("outcomes.json"))
                runs.append((child.seed, try JSONDecoder().decode([AlgorithmOutcome].self, from: data)))
            }
        }
        return runs
    }

    /// CPU seconds of the child processes this one waited for.
    private func childrenCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &usage)
        let seconds = { (t: timeval) in Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
