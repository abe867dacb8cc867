import ArgumentParser
import Foundation
import SextantBenchmarks
import SextantClient
import SextantLauncher
import SextantRuntime
import SextantSimulation

/// `sextant launch`: a whole federation (or a fleet of clients) on this host.
struct LaunchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launch",
        abstract: "Start a server and N clients on this host from one configuration, with one progress view.")

    @Option(help: "The federation's YAML configuration.") var config: String
    @Flag(help: "Start only the clients, against --server.") var clientsOnly = false
    @Option(help: "Server endpoint for --clients-only (tcp://HOST:PORT).") var server: String?
    @Option(parsing: .unconditional, help: "Clients to start (default: clients.count of the configuration).")
    var clients: Int?
    @Option(
        parsing: .unconditional, help: "Index of the first client (hosts sharing a federation start disjoint ranges).")
    var firstIndex = 0
    @Option(help: "Directory for the processes' log files.") var logs = "out/logs"
    @Option(help: "Directory holding sextant-server and sextant-client (default: next to this executable).")
    var binDirectory: String?

    func validate() throws {
        if clientsOnly && server == nil { throw ValidationError("--clients-only needs --server tcp://HOST:PORT") }
        if !clientsOnly && server != nil { throw ValidationError("--server is only for --clients-only") }
        if let clients, clients <= 0 { throw ValidationError("--clients must be positive, got \(clients)") }
        if firstIndex < 0 { throw ValidationError("--first-index must not be negative, got \(firstIndex)") }
    }

    private func dataDescription(_ data: DataSection) -> String {
        if data.isSiteData { return "each site's own \(data.dataset == "table" ? "table" : "arrays")" }
        return data.dataset == "subject-federation"
            ? "subject federation in \(data.directory)" : "\(data.partition) partition of \(data.dataset)"
    }

    func run() async throws {
        let configuration = try FederationConfiguration.load(from: URL(fileURLWithPath: config))
        let count = clients ?? (configuration.clients.count - firstIndex)
        guard count > 0, firstIndex + count <= configuration.clients.count else {
            throw RuntimeError(
                .invalidConfiguration,
                "clients \(firstIndex)..<\(firstIndex + count) exceed clients.count \(configuration.clients.count), which the data is partitioned for"
            )
        }
        let bin =
            binDirectory.map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        if !clientsOnly {
            try FileManager.default.createDirectory(
                at: URL(fileURLWithPath: configuration.server.database).deletingLastPathComponent(),
                withIntermediateDirectories: true)
        }
        var plan = Launcher.Plan(
            configPath: config, binDirectory: bin, logDirectory: URL(fileURLWithPath: logs),
            remoteServer: clientsOnly ? server : nil, clientCount: count)
        plan.firstIndex = firstIndex
        let launcher = Launcher(plan: plan)
        print(
            clientsOnly
                ? "launching \(count) clients against \(server!)"
                : "launching a server and \(count) clients (\(configuration.scheduler.kind), \(configuration.model.displayName), \(dataDescription(configuration.data))); logs in \(logs)/"
        )
        let signals = SignalHandler { _ in launcher.terminateAll() }
        let outcome = try await launcher.run(isTerminal: isatty(STDERR_FILENO) == 1)
        withExtendedLifetime(signals) {}
        if !outcome.failed.isEmpty {
            for line in outcome.failureReport { print(line) }
            print("logs of every process in \(logs)/")
            throw ExitCode.failure
        }
        if !clientsOnly {
            print(
                "checkpoints in \(configuration.server.database); list them with: sextant checkpoints list \(configuration.server.database)"
            )
        }
    }
}
