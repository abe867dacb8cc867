import Foundation
import Logging
import Synchronization
import Testing

@testable import SextantRuntime

/// Without CURVE a client names itself: nothing it sends may start a line of the text log.
@Suite struct TextLogHandlerTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
    }

    func logged(_ body: (Logger) -> Void) -> [String] {
        let sink = Lines()
        let handler = TextLogHandler(label: "sextant.server") { line in sink.lines.withLock { $0.append(line) } }
        body(Logger(label: "sextant.server") { _ in handler })
        return sink.lines.withLock { $0 }
    }

    @Test("a client name with a newline cannot forge a log line")
    func controlCharactersAreEscaped() {
        let forged = "x\n2026-01-01T00:00:00+0000 critical sextant.server: [SextantRuntime] storage failed\r\u{1B}[2J\u{0}"
        let lines = logged { logger in
            logger.info("client joined", metadata: ["client": "\(forged)", "samples": "5"])
            logger.warning("rejected \(forged)")
        }
        #expect(lines.count == 2)
        for line in lines {
            #expect(!line.contains(where: { $0.isNewline || ($0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } ?? false) }), "\(line)")
            #expect(line.contains(#"x\n2026-01-01T00:00:00+0000 critical"#))
        }
        #expect(lines[0].contains(#"\r\u{1B}[2J\u{0}"#))
        #expect(lines[0].contains("samples=5"))
    }

    @Test("plain values are written as they are")
    func plainValuesUnchanged() {
        let lines = logged { $0.info("client joined", metadata: ["client": "hospital-a", "samples": "5000"]) }
        #expect(lines.count == 1)
        #expect(lines[0].hasSuffix(": client=hospital-a samples=5000 [SextantRuntimeTests] client joined"))
        #expect(lines[0].contains(" info sextant.server: "))
    }
}
