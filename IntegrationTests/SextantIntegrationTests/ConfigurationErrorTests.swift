import Foundation
import Testing

extension IntegrationTests {
    @Suite("Configuration errors")
    struct ConfigurationErrorTests {
        /// A configuration with one thing wrong, and what the error must name.
        struct Case: Sendable, CustomTestStringConvertible {
            var name: String
            var edit: @Sendable (String) -> String
            var mustMention: String
            var testDescription: String { name }

            /// Inserts `line` as the first key of `section`.
            static func adding(_ line: String, to section: String) -> @Sendable (String) -> String {
                { $0.replacingOccurrences(of: "\n\(section):\n", with: "\n\(section):\n  \(line)\n") }
            }

            /// Replaces the value of `key` (indented under its section) with `value`.
            static func setting(_ key: String, to value: String) -> @Sendable (String) -> String {
                { yaml in
                    yaml.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                        line.trimmingCharacters(in: .whitespaces).hasPrefix("\(key):")
                            ? "\(line.prefix { $0 == " " })\(key): \(value)" : String(line)
                    }.joined(separator: "\n")
                }
            }
        }

        static let cases: [Case] = [
            Case(
                name: "misspelt key", edit: Case.adding("max_update_nrom: 5", to: "server"),
                mustMention: "'server.max_update_nrom'"),
            Case(name: "unknown section", edit: { $0 + "schedular:\n  kind: fedavg\n" }, mustMention: "'schedular'"),
            Case(
                name: "negative local steps", edit: Case.setting("local_steps", to: "-3"),
                mustMention: "'scheduler.local_steps'"),
            Case(
                name: "word for a number", edit: Case.setting("max_versions", to: "lots"),
                mustMention: "'stop.max_versions'"),
            Case(
                name: "accuracy above 1", edit: Case.setting("target_accuracy", to: "1.5"),
                mustMention: "'stop.target_accuracy'"),
            Case(
                name: "unknown partition", edit: Case.setting("partition", to: "zigzag"),
                mustMention: "'data.partition'"),
            Case(
                name: "bind without a scheme", edit: Case.setting("bind", to: "127.0.0.1:7070"),
                mustMention: "'server.bind'"),
            Case(name: "unknown model", edit: Case.setting("model", to: "transformer"), mustMention: "'model'"),
            Case(name: "unknown scheduler", edit: Case.setting("kind", to: "fedsgd"), mustMention: "'scheduler.kind'"),
            Case(
                name: "missing dataset", edit: Case.setting("directory", to: "/nonexistent"),
                mustMention: "/nonexistent"),
        ]

        /// Both executables refuse the configuration at once: exit status non-zero and one
        /// line on standard error that names the key (or the directory).
        @Test(
            "a wrong configuration is refused with one line naming the key", arguments: cases,
            ["sextant-server", "sextant-client"])
        func refusesWrongConfiguration(_ wrong: Case, executable: String) async throws {
            try IntegrationEnvironment.requireDataset()
            let fixture = try FederationFixture(name: "config")
            defer { fixture.tearDown() }
            let valid = fixture.configuration(name: "config").yaml
            let edited = wrong.edit(valid)
            try #require(edited != valid, "the case changed nothing")
            let config = try fixture.write(edited)
            let arguments =
                executable == "sextant-server" ? ["--config", config.path] : ["--config", config.path, "--index", "0"]

            let process = try fixture.start(executable, executable: executable, arguments: arguments)
            let ended = try await process.waitForExit(timeout: .seconds(60))
            try #require(ended, "\(executable) kept running with a wrong configuration\n\(process.tail())")
            #expect(!process.exitedSuccessfully, "\(process.statusDescription)")
            #expect(process.statusDescription.hasPrefix("exit status"), "it crashed: \(process.statusDescription)")
            let lines = process.standardError.split(separator: "\n").filter { !$0.allSatisfy(\.isWhitespace) }
            #expect(lines.count == 1, "expected one line, got:\n\(process.standardError)")
            #expect(
                lines.first?.contains(wrong.mustMention) == true,
                "the error does not name '\(wrong.mustMention)':\n\(process.standardError)")
        }

        /// Numbers on the command line are parsed even when negative, then refused in one
        /// line that names the option (not "Missing value").
        @Test(
            "a negative number on the command line is refused in one line naming the option",
            arguments: [
                ("sextant-client", ["--index", "-1"], "--index"),
                ("sextant", ["checkpoints", "export", "db.sqlite", "--version", "-2", "-o", "m.sxm"], "--version"),
            ])
        func refusesNegativeNumbers(_ executable: String, _ arguments: [String], option: String) async throws {
            let fixture = try FederationFixture(name: "negative")
            defer { fixture.tearDown() }
            let config = try fixture.write(fixture.configuration(name: "negative").yaml)
            let full = executable == "sextant-client" ? ["--config", config.path] + arguments : arguments
            let process = try fixture.start(executable, executable: executable, arguments: full)
            try #require(try await process.waitForExit(timeout: .seconds(60)), "\(process.tail())")
            #expect(!process.exitedSuccessfully)
            let lines = process.standardError.split(separator: "\n").filter { !$0.allSatisfy(\.isWhitespace) }
            #expect(
                lines.first?.contains(option) == true && lines.first?.contains("-") == true, "\(process.standardError)")
            #expect(!process.standardError.contains("Missing value"), "\(process.standardError)")
        }

        /// A YAML alias bomb is refused before it is expanded: in one line, in little memory.
        @Test("an alias bomb is refused in one line", arguments: ["sextant-server", "sextant-client"])
        func refusesAliasBomb(executable: String) async throws {
            let fixture = try FederationFixture(name: "bomb")
            defer { fixture.tearDown() }
            var lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
            for level in 1...9 {
                lines.append(
                    "a\(level): &a\(level) [\(Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", "))]")
            }
            let config = try fixture.write(
                "run:\n  name:\n" + lines.map { "    - " + $0 }.joined(separator: "\n") + "\n")
            let arguments =
                executable == "sextant-server" ? ["--config", config.path] : ["--config", config.path, "--index", "0"]
            let process = try fixture.start(executable, executable: executable, arguments: arguments)
            try #require(try await process.waitForExit(timeout: .seconds(60)), "\(process.tail())")
            #expect(
                process.statusDescription.hasPrefix("exit status") && !process.exitedSuccessfully,
                "\(process.statusDescription)")
            let errorLines = process.standardError.split(separator: "\n").filter { !$0.allSatisfy(\.isWhitespace) }
            #expect(errorLines.count == 1 && errorLines.first?.contains("aliases") == true, "\(process.standardError)")
        }
    }
}
