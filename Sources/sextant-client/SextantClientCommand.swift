import ArgumentParser

@main
struct SextantClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sextant-client")

    func run() throws {
        throw ValidationError("sextant-client is not available in this build yet")
    }
}
