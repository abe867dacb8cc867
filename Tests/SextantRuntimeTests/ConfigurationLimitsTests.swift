import Foundation
import Testing

@testable import SextantRuntime

/// A configuration file is input too: its size and its alias expansion are bounded, and a
/// file past either bound is refused in one line before it is expanded.
@Suite struct ConfigurationLimitsTests {
    /// Five levels of ten aliases each: 100,000 leaves from a few hundred bytes.
    static let aliasBomb: String = {
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for level in 1...5 {
            let previous = "*a\(level - 1)"
            lines.append("a\(level): &a\(level) [\(Array(repeating: previous, count: 10).joined(separator: ", "))]")
        }
        return "run:\n  name:\n" + lines.map { "    - " + $0 }.joined(separator: "\n") + "\n"
    }()

    @Test("an alias bomb is refused in one line naming the file and the limit")
    func aliasBombIsRefused() {
        let message = refusal(of: Self.aliasBomb) ?? ""
        #expect(message.hasPrefix("test.yaml: "), "\(message)")
        #expect(message.contains("aliases"), "\(message)")
        #expect(!message.contains("\n"))
    }

    @Test("a configuration file larger than the limit is refused before parsing")
    func hugeFileIsRefused() {
        let huge = "run: {name: demo}\n" + String(repeating: "# padding\n", count: 210_000)  // 2.1 MB
        let message = refusal(of: huge) ?? ""
        #expect(message.contains("test.yaml") && message.contains("bytes"), "\(message)")
        #expect(!message.contains("\n"))
    }

    @Test("ordinary anchors and aliases are still read")
    func smallAliasesAreFine() throws {
        let configuration = try decodeConfiguration(
            """
            run: {name: demo, seed: &three 3}
            stop: {max_versions: *three}
            """)
        #expect(configuration.run.name == "demo" && configuration.stop.maxVersions == 3)
    }
}
