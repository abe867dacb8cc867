import ArgumentParser

@main
struct SextantAuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sextant-audit")

    func run() throws {
        throw ValidationError("sextant-audit is not available in this build yet")
    }
}
