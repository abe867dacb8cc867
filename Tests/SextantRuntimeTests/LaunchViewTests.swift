import SextantBenchmarks
import Testing

@testable import SextantClient
@testable import SextantLauncher
@testable import SextantRuntime
@testable import SextantServer
@testable import SextantSimulation

@Suite struct LaunchViewTests {
    @Test func parsesASwiftLogTextLine() throws {
        let line =
            "2026-11-23T02:45:02+0000 info sextant.server: accuracy=0.7900 loss=0.5706 version=9 [SextantRuntime] aggregated"
        let log = try #require(LogLine(parsing: Substring(line)))
        #expect(log.level == "info")
        #expect(log.message == "aggregated")
        #expect(log.metadata == ["accuracy": "0.7900", "loss": "0.5706", "version": "9"])
    }

    @Test("a metadata value with spaces (the federated evaluation's metrics) stays whole and is shown")
    func valuesWithSpaces() throws {
        let line =
            "2026-11-29T11:12:10+0000 info sextant.server: complete=true metrics=accuracy 0.9780  balanced_accuracy 0.9750  loss 0.0595 records=91 sites=3 version=15 [SextantServer] federated evaluation"
        let log = try #require(LogLine(parsing: Substring(line)))
        #expect(log.message == "federated evaluation")
        #expect(log.metadata["metrics"] == "accuracy 0.9780  balanced_accuracy 0.9750  loss 0.0595")
        #expect(log.metadata["sites"] == "3" && log.metadata["version"] == "15")
        var view = LaunchView(isTerminal: false)
        #expect(
            view.ingest(source: "server", line: Substring(line))
                == "version 15 at 3 sites (91 validation records): accuracy 0.9780  balanced_accuracy 0.9750  loss 0.0595"
        )
    }

    @Test func aLineWithoutMetadataKeepsItsMessage() throws {
        let log = try #require(
            LogLine(parsing: "2026-11-23T02:45:02+0000 notice sextant.server: [SextantRuntime] stopping on request"))
        #expect(log.level == "notice")
        #expect(log.message == "stopping on request")
        #expect(log.metadata.isEmpty)
    }

    @Test func plainTextIsNotALogLine() {
        #expect(LogLine(parsing: "client-0: done after 11 tasks") == nil)
    }

    @Test func theViewFollowsAggregationsAndClients() {
        var view = LaunchView(isTerminal: false)
        let printed = view.ingest(
            source: "server",
            line:
                "2026-11-23T02:45:02+0000 info sextant.server: accuracy=0.8123 updates=4 staleness=0 version=5 [SextantRuntime] aggregated"
        )
        #expect(view.version == 5)
        #expect(view.accuracy == "81.23%")
        #expect(printed == "version 5: accuracy 81.23%, 4 updates, max staleness 0")
        // The lines a client writes for one task, as it writes them.
        for line in [
            "2026-11-29T23:06:39+0000 info sextant.client: client=client-2 steps=50 version=5 [SextantClient] training",
            "2026-11-29T23:06:39+0000 info sextant.client: client=client-2 loss=0.4100 record_epsilon=none seconds=1.50 steps=50 version=5 [SextantClient] update ready",
            "2026-11-29T23:06:39+0000 info sextant.client: client=client-2 server version=5 update=117702236520513555 [SextantClient] update acknowledged",
        ] {
            _ = view.ingest(source: "client-2", line: Substring(line))
        }
        #expect(view.clients["client-2"]?.tasks == 1)
        #expect(view.clients["client-2"]?.lastLoss == "0.4100")
        #expect(view.clients["client-2"]?.lastSeconds == "1.50")
        #expect(view.clients["client-2"]?.state == "update acknowledged")
    }

    @Test func clientsSortNaturally() {
        let names = ["client-10", "client-2", "client-1"].sorted(by: LaunchView.naturalOrder)
        #expect(names == ["client-1", "client-2", "client-10"])
    }
}

@Suite struct LaunchViewGroupTests {
    @Test func anArrivalGroupIsShownWithEachMembersSteps() {
        var view = LaunchView(isTerminal: false)
        let line = view.ingest(
            source: "server",
            line:
                "2026-11-23T03:28:14+0000 info sextant.server: expected_in=1.30 group=5 members=client-1:68@0.031s,client-2:52@0.040s [SextantRuntime] arrival group"
        )
        #expect(
            line
                == "  group 5 (due in 1.30 s): client-1 68 steps at 0.031s per step, client-2 52 steps at 0.040s per step"
        )
    }
}
