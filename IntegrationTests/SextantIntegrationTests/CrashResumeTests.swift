import Foundation
import SextantStore
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension IntegrationTests {
    @Suite("Crash and resume")
    struct CrashResumeTests {
        /// docs/design.md 6: a server killed with SIGKILL and started again on the same database
        /// resumes from its last committed version; the clients, never restarted, rejoin on
        /// their own and finish; no acknowledged update is lost.
        @Test("a server killed with SIGKILL resumes from its last checkpoint and loses no acknowledged update")
        func resumesAfterSIGKILL() async throws {
            try IntegrationEnvironment.requireDataset()
            for name in ["sextant", "sextant-server", "sextant-client"] {
                _ = try IntegrationEnvironment.executable(name)
            }
            let fixture = try FederationFixture(name: "crash")
            defer { fixture.tearDown() }
            var configuration = fixture.configuration(name: "crash")
            configuration.maxVersions = 12
            configuration.targetAccuracy = 0  // run to the last version, well past the crash
            configuration.localSteps = 30
            configuration.speedDistribution = "normal"  // clients of different speeds: updates wait in buffers
            let config = try fixture.write(configuration.yaml)

            let first = try fixture.startServer(config: config, name: "server-1")
            let serving = try await fixture.waitForLogLine(first, containing: "serving", timeout: .seconds(60))
            try #require(serving?.contains("resumed=no") == true, "\(fixture.diagnostics())")
            // Emulated slowness (0.01 s per step) keeps the run going long enough to crash it.
            let clients = try (0..<configuration.clientCount).map {
                try fixture.startClient(config: config, index: $0, timePerStep: 0.01)
            }

            // Crash once three aggregations are committed, preferably while some updates
            // are acknowledged but not yet aggregated (buffered), so the restart must replay them.
            let crashVersion = 3
            let store = try fixture.openStore()
            let reached = try await fixture.wait(timeout: .seconds(90), every: .milliseconds(20)) {
                guard first.isRunning else { return true }
                guard let run = try store.latestRun(), let version = try store.checkpointVersions(run: run.id).last,
                    version >= crashVersion
                else { return false }
                let buffered = try store.updates(run: run.id).contains { $0.state == .buffered }
                // Past version 8 the run would end too soon after the restart: crash anyway.
                return buffered || version >= 8
            }
            try #require(
                reached && first.isRunning, "version \(crashVersion) never committed\n\(fixture.diagnostics())")
            first.send(SIGKILL)
            try #require(try await first.waitForExit(timeout: .seconds(10)))
            #expect(first.statusDescription == "killed by signal \(SIGKILL)")
            let crashedRun = try #require(try store.latestRun())
            let committedBeforeKill = try #require(try store.checkpointVersions(run: crashedRun.id).last)
            let bufferedAtCrash = try store.updates(run: crashedRun.id).filter { $0.state == .buffered }
            try #require(committedBeforeKill < configuration.maxVersions, "the run finished before the crash")
            for client in clients {
                try #require(
                    client.isRunning, "\(client.name) did not survive the server's crash\n\(fixture.diagnostics())")
            }

            // The checkpoint commits before its evaluation is recorded (docs/design.md 3): take
            // the latest one's accuracy away, as a kill between the two commits leaves it.
            try await fixture.alterCheckpoint(
                set: "metrics = json_remove(metrics, '$.accuracy', '$.loss')", run: crashedRun.id,
                version: committedBeforeKill)
            #expect(try store.checkpoint(run: crashedRun.id, version: committedBeforeKill)?.metrics["accuracy"] == nil)

            // The same command again: it must resume, not start over.
            let second = try fixture.startServer(config: config, name: "server-2")
            let resumedLine = try await fixture.waitForLogLine(second, containing: "serving", timeout: .seconds(60))
            let resumed = try #require(
                resumedLine.flatMap { LogLines.value(of: "resumed", in: $0) },
                "no serving line\n\(fixture.diagnostics())")
            let resumedVersion = try #require(Int(resumed), "resumed=\(resumed): the restarted server started over")
            #expect(
                resumedVersion >= committedBeforeKill,
                "resumed from \(resumedVersion), \(committedBeforeKill) was committed")
            #expect(resumedVersion >= crashVersion)
            if !bufferedAtCrash.isEmpty {
                let replay = try await fixture.waitForLogLine(
                    second, containing: "replaying acknowledged updates", timeout: .seconds(10))
                #expect(
                    replay.flatMap { LogLines.value(of: "count", in: $0) } == "\(bufferedAtCrash.count)",
                    "\(bufferedAtCrash.count) updates were buffered at the crash: \(replay.map(String.init) ?? "no replay line")"
                )
            }

            // The same client processes carry on to the end.
            for process in clients + [second] {
                let ended = try await process.waitForExit(timeout: .seconds(120))
                try #require(ended, "\(process.name) did not finish\n\(fixture.diagnostics())")
            }
            #expect(second.exitedSuccessfully, "\(fixture.diagnostics())")
            #expect(
                second.standardOutput.contains("completed at version \(configuration.maxVersions)"), "\(second.tail())")
            for (index, client) in clients.enumerated() {
                #expect(client.exitedSuccessfully, "\(client.tail())")
                #expect(client.standardOutput.contains("client-\(index): done after"), "\(client.tail())")
            }

            let run = try #require(try store.latestRun())
            #expect(try store.runs().count == 1, "the restart began a second run")
            #expect(run.status == .completed)
            #expect(try store.checkpointVersions(run: run.id) == Array(0...configuration.maxVersions))
            // Every version has its test-set accuracy, the resumed one evaluated again at start.
            for version in 1...configuration.maxVersions {
                let accuracy = try store.checkpoint(run: run.id, version: version)?.metrics["accuracy"]
                #expect(accuracy.map { (0...1).contains($0) } == true, "version \(version) has no accuracy")
            }
            let evaluatedAgain = LogLines.first(in: second.standardError, containing: "evaluated the resumed version")
            #expect(
                evaluatedAgain.flatMap { LogLines.value(of: "version", in: $0) } == "\(resumedVersion)",
                "\(second.tail())")
            let report = try store.verify()
            #expect(report.isOK, "\(report)")

            let verify = try fixture.start(
                "checkpoints-verify", executable: "sextant", arguments: ["checkpoints", "verify", fixture.databasePath])
            try #require(try await verify.waitForExit(timeout: .seconds(60)))
            #expect(verify.exitedSuccessfully, "\(verify.tail())")

            // Every update a client saw acknowledged is in the database, applied or discarded.
            let updates = try store.updates(run: run.id)
            let audit = try AcknowledgementAudit(logs: clients.map { ($0.name, $0.standardError) }, updates: updates)
            #expect(audit.isLossless, "\(audit)")
            #expect(
                audit.acknowledged >= configuration.clientCount * configuration.maxVersions / 2,
                "too few acks to mean anything")
            #expect(updates.allSatisfy { $0.state != .buffered }, "updates left buffered after completion")
            for update in bufferedAtCrash {
                #expect(
                    updates.first { $0.id == update.id }?.state == .applied,
                    "update \(update.id) of \(update.client), buffered at the crash, was not applied after the restart")
            }
        }
    }
}
