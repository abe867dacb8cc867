import ArgumentParser

/// The privacy audit: subject membership inference over a federation's checkpoints
/// (docs/design.md 8), and the tools that make subject-structured data for it.
@main
struct SextantAuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sextant-audit",
        abstract: "Measure how much a federation's checkpoints leak about individual data subjects.",
        discussion: """
            run       audit a checkpoint database (subject membership inference)
            synth     generate a federation with subject-level structure and its audit set
            simulate  train a synthetic federation in-process into a checkpoint database
            """,
        subcommands: [RunCommand.self, SynthCommand.self, SimulateCommand.self],
        defaultSubcommand: RunCommand.self)
}
