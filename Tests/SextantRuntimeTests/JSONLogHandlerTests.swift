import Foundation
import Logging
import SextantBenchmarks
import Synchronization
import Testing

@testable import SextantClient
@testable import SextantLauncher
@testable import SextantRuntime
@testable import SextantServer
@testable import SextantSimulation

@Suite struct JSONLogHandlerTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
    }

    @Test func eachEventIsOneJSONObjectWithItsMetadata() throws {
        let sink = Lines()
        var handler = JSONLogHandler(label: "sextant.test") { line in sink.lines.withLock { $0.append(line) } }
        handler[metadataKey: "client"] = "client-3"
        let logger = Logger(label: "sextant.test") { _ in handler }
        logger.info("aggregated", metadata: ["version": "7", "accuracy": "0.81"])
        logger.debug("below the level: not written")
        let lines = sink.lines.withLock { $0 }
        #expect(lines.count == 1)
        #expect(!lines[0].contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: String])
        #expect(object["message"] == "aggregated")
        #expect(object["level"] == "info")
        #expect(object["label"] == "sextant.test")
        #expect(object["version"] == "7")
        #expect(object["accuracy"] == "0.81")
        #expect(object["client"] == "client-3")
        #expect(object["time"] != nil)
    }

    @Test func quotesAndNewlinesInMessagesStayValidJSON() throws {
        let sink = Lines()
        let handler = JSONLogHandler(label: "x") { line in sink.lines.withLock { $0.append(line) } }
        let logger = Logger(label: "x") { _ in handler }
        logger.warning("rejected \"message\"\nsecond line")
        let line = try #require(sink.lines.withLock { $0.first })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["message"] == "rejected \"message\"\nsecond line")
    }
}
