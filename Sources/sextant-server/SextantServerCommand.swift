import ArgumentParser

@main
struct SextantServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sextant-server")

    func run() throws {
        throw ValidationError("sextant-server is not available in this build yet")
    }
}
