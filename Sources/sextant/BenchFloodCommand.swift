import ArgumentParser
import Foundation
import Logging
import SextantBenchmarks

/// `sextant bench flood`: the stress loop behind docs/reliability.md's flood abort.
struct BenchFloodCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flood",
        abstract:
            "Flood a real sextant-server from many connections, tear them down, repeat; count the server's aborts.",
        discussion: """
            Each run starts sextant-server (logreg, waiting for clients that never come), then for each \
            round opens --connections DEALER sockets that send --messages heartbeats each as fast as \
            libzmq takes them and closes them at once without linger. A run whose server ended by a \
            signal, during the flood or when asked to stop, counts as an abort. Not part of make test: it takes minutes.
            """)

    @Option(help: "Runs, each with its own server.") var runs = 10
    @Option(help: "Floods per run.") var rounds = 5
    @Option(help: "Connections per flood.") var connections = 50
    @Option(help: "Messages per connection and flood.") var messages = 2_000
    @Option(help: "Where configurations, logs and databases go.") var output = "out/bench-flood"
    @Option(help: "Directory of the sextant executables (default: this one's).") var bin: String?
    @Option(help: "Fashion-MNIST directory (default: Debian's).") var data: String?

    func run() throws {
        let binDirectory =
            bin.map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        var settings = FloodBenchmark.Configuration(
            binDirectory: binDirectory, outputDirectory: URL(fileURLWithPath: output, isDirectory: true))
        settings.runs = runs
        settings.roundsPerRun = rounds
        settings.connections = connections
        settings.messagesPerConnection = messages
        settings.dataDirectory = data
        var logger = Logger(label: "sextant.bench")
        logger.logLevel = .warning
        print("run  server                 died  sent      exit s  assertion")
        let results = try FloodBenchmark(configuration: settings, logger: logger).run { run in
            print(
                String(
                    format: "%3d  %-21@  %4@  %8d  %6.1f  %@", run.run, run.serverStatus as NSString,
                    (run.died ? "yes" : "no") as NSString, run.messagesSent, run.secondsToExit,
                    (run.assertion ?? "-") as NSString))
            fflush(nil)
        }
        let aborted = results.filter(\.aborted).count
        let died = results.filter(\.died).count
        let asserted = results.filter { $0.assertion != nil }.count
        print(
            "\(results.count) runs, \(aborted) servers aborted (\(died) during the flood), \(asserted) with a libzmq assertion"
        )
        if aborted > 0 { throw ExitCode.failure }
    }
}
