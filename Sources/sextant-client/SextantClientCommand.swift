import ArgumentParser
import Foundation
import Logging
import SextantClient
import SextantML
import SextantRuntime

/// One federation client.
@main
struct SextantClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sextant-client",
        abstract: "Run a Sextant client: train on this silo's data and send model deltas to the server.")

    @Option(help: "The federation's YAML configuration (data, partition, model, speeds).") var config: String
    @Option(parsing: .unconditional, help: "This client's index in the partition (0-based, below clients.count).")
    var index: Int
    @Option(help: "Server endpoint (default: server.bind of the configuration).") var server: String?
    @Option(help: "Client name, unique in the federation (default: client-INDEX).") var name: String?
    @Option(help: "Emulated mean seconds per local step (overrides clients.mean_time_per_step).") var timePerStep:
        Double?
    @Option(help: "How emulated speeds spread: fixed, normal or exponential.") var speedDistribution: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"
    @Option(help: "Log format: text or json (one JSON object per line).") var logFormat = "text"
    @Option(help: "This client's CURVE key pair file (overrides security.client_key).") var key: String?
    @Option(help: "This site's own data file: .csv, .npy, .npz or IDX (overrides clients.data).") var data: String?
    @Option(
        help:
            "Run this many clients (INDEX, INDEX+1, ...) in this process, each with its own connection: for load tests."
    )
    var sessions = 1

    /// One line, not the usage: a negative index is parsed, then refused here.
    func validate() throws {
        guard index >= 0 else {
            throw RuntimeError(
                .invalidArgument,
                "--index \(index): a client's index is 0 or more (below clients.count of the configuration)")
        }
    }

    func run() throws {
        // First, before other threads allocate: glibc allows no mallopt while they do.
        LargeBufferReuse.enable()
        try LogSetup.bootstrap(level: try LogSetup.level(named: logLevel), format: logFormat)
        var configuration = try FederationConfiguration.load(from: URL(fileURLWithPath: config))
        if let timePerStep { configuration.clients.meanTimePerStep = timePerStep }
        if let speedDistribution { configuration.clients.speedDistribution = speedDistribution }
        if let data { configuration.clients.data = data }
        try configuration.validate()
        setBLASThreads(configuration.clients.threads)
        if sessions != 1 {
            guard name == nil, key == nil else {
                throw ValidationError("--name and --key belong to one client; they cannot be used with --sessions")
            }
            try runSessions(configuration)
            return
        }
        let clientName = name ?? "client-\(index)"
        var logger = Logger(label: "sextant.client")
        logger[metadataKey: "client"] = "\(clientName)"
        let stop = StopFlag()
        let signals = SignalHandler { _ in stop.raise() }
        let data =
            configuration.data.isSiteData
            ? try PreprocessingRequest.agreedDataset(
                configuration: configuration, index: index, name: clientName, server: server, keyOverride: key,
                stop: stop, logger: logger)
            : try FederationData.loadPartition(configuration, index: index)
        let settings = try FederationClient.Settings(
            configuration: configuration, index: index, name: clientName, server: server, records: data.count,
            keyOverride: key)
        let speed = settings.speed
        if let plan = settings.recordLevel {
            let budget = try plan.stepBudget().map {
                ", at most \($0) steps (target epsilon \(plan.targetEpsilon ?? 0))"
            }
            let sampling =
                plan.unit == .subject
                ? "subjects sampled at q \(plan.sampleRate)" : "expected batch \(plan.expectedBatchSize)"
            logger.info(
                "\(plan.unit.rawValue)-level DP-SGD: C \(plan.clipNorm), z \(String(format: "%.3f", plan.noiseMultiplier)), \(sampling), delta \(plan.delta)\(budget ?? "")"
            )
        }
        if speed.timePerStep > 0 {
            logger.info("emulating \(String(format: "%.3f", speed.timePerStep)) s per step")
        }
        let client = try FederationClient(settings: settings, data: data, stop: stop, logger: logger)
        let startedUp = ProcessUsage.now()
        let summary = try client.run()
        withExtendedLifetime(signals) {}
        print(
            "\(clientName): \(summary.outcome) after \(summary.tasks) tasks, \(summary.updatesAcknowledged) updates acknowledged, last version \(summary.lastVersion), \(ProcessUsage.now().cpuText(since: startedUp))"
        )
    }

    /// `--sessions K`: clients INDEX..<INDEX+K in this process; fails if any session failed.
    private func runSessions(_ configuration: FederationConfiguration) throws {
        let stop = StopFlag()
        let signals = SignalHandler { _ in stop.raise() }
        let sessions = ClientSessions(configuration: configuration, firstIndex: index, count: sessions, server: server)
        let results = try sessions.run(stop: stop, logger: Logger(label: "sextant.client"))
        withExtendedLifetime(signals) {}
        for result in results {
            if let summary = result.summary {
                print(
                    "\(result.name): \(summary.outcome) after \(summary.tasks) tasks, \(summary.updatesAcknowledged) updates acknowledged, last version \(summary.lastVersion)"
                )
            } else {
                print("\(result.name): failed: \(result.error ?? "unknown error")")
            }
        }
        if results.contains(where: { $0.summary == nil }) { throw ExitCode.failure }
    }
}
