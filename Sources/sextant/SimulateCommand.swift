import ArgumentParser
import Foundation
import Logging
import SextantBenchmarks
import SextantClient
import SextantLauncher
import SextantML
import SextantRuntime
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
    @Option(help: "OpenBLAS threads.") var threads = 1
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"

    func run() throws {
        try LogSetup.bootstrap(level: try LogSetup.level(named: logLevel))
        let logger = Logger(label: "sextant.simulate")
        guard threads > 0 else { throw ValidationError("--threads must be positive, got \(threads)") }
        setBLASThreads(threads)
        let kinds = try ExperimentRunner.algorithms(named: algorithms)
        var configuration = try FederationConfiguration.load(from: URL(fileURLWithPath: config))
        if let robustAggregation { configuration.server.robustAggregation = robustAggregation }
        let target = targetAccuracy ?? configuration.stop.targetAccuracy
        guard target >= 0, target <= 1 else {
            throw ValidationError("--target-accuracy must lie in [0, 1], got \(target)")
        }
        let budget = maxTime ?? (configuration.stop.maxSeconds > 0 ? configuration.stop.maxSeconds : .infinity)
        var options = ExperimentRunner.Options(
            algorithms: kinds, maxTime: budget, maxVersions: maxVersions ?? configuration.stop.maxVersions,
            latency: latency,
            jitter: jitter, evaluateEvery: evaluateEvery)
        options.attackers = attackers
        options.attackScale = attackScale
        let runner = try ExperimentRunner(configuration: configuration, options: options)
        let speeds = runner.secondsPerStep.map { String(format: "%.3f", $0) }.joined(separator: ", ")
        print(
            "simulating \(kinds.map(\.rawValue).joined(separator: ", ")) on \(runner.clientData.count) clients "
                + "(\(configuration.model.displayName), \(configuration.data.partition) partition, \(configuration.clients.speedDistribution) speeds)"
        )
        print("seconds per step: \(speeds)")
        var report = try runner.run(logger: logger)
        report.targetAccuracy = target > 0 ? target : nil
        let name = title ?? configuration.run.name
        let setup = """
            - configuration: `\(config)` (model \(configuration.model.displayName), \(configuration.data.partition) partition, \
            \(runner.clientData.count) clients, \(configuration.clients.speedDistribution) speeds, seed \(configuration.run.seed))
            - client seconds per step: \(speeds)
            - budget: \(budget.isFinite ? "\(budget) virtual seconds" : "unlimited time"), \(options.maxVersions) versions; \
            latency \(latency) s, jitter \(jitter), evaluation every \(evaluateEvery) version(s) on \(runner.testSet.count) test examples
            """
        let directory = URL(fileURLWithPath: output)
        try report.write(to: directory, title: name, setup: setup)
        print(report.table)
        print(report.costTable)
        print("wrote \(directory.appendingPathComponent("results.csv").path), summary.md and accuracy.svg")
    }
}
