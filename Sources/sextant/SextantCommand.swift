import ArgumentParser

@main
struct SextantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sextant",
        abstract: "Operator tool for Sextant federations.",
        subcommands: [
            LaunchCommand.self, CheckpointsCommand.self, TrainCommand.self, BenchCommand.self, SimulateCommand.self,
            PrivacyCommand.self, KeygenCommand.self, StatusCommand.self, PredictCommand.self,
        ])
}
