import Foundation
import SextantStore
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension IntegrationTests.SecureAggregationTests {
    /// What one Compass run with two kills left behind.
    struct CompassRun {
        /// Test accuracy by version (from version 1).
        var accuracies: [Int: Double]
        var serverLog: String
        var updates: [StoredUpdate]
        /// Every stored value vector seen while the run went on, by update id.
        var observed: [Int64: [Float]]
        /// Seconds between consecutive checkpoints, from the checkpoints' `seconds` metric.
        var secondsPerVersion: [Double]
    }

    static let compassClients = 6
    static let compassVersions = 8
    /// Per-client seconds per step (emulated, beside the real training): one speed, so that
    /// the groups are large enough to be cohorts (at least 3 members) after the two kills;
    /// the groups still form from measured speeds, deadlines and the kills.
    static let compassSpeeds = [Double](repeating: 0.02, count: 6)

    /// docs/design.md 13: Compass's arrival groups are cohorts. 6 clients, real executables
    /// on loopback; client-5 is killed once its contribution to a version after the first
    /// is stored (its masked input sent: the protocol recovers it from the others' shares),
    /// client-4 while it trains a later task (it never announces: its group closes at its
    /// latest arrival time, or when the server finds it gone, without it). The run
    /// completes; what the database held of a member at any time was ring values,
    /// uniform; and the final accuracy is that of the same seeded run, with the same kills,
    /// without secure aggregation, within a tolerance.
    ///
    /// Tolerance: the two runs do not schedule alike, so their curves differ by more than
    /// the quantisation error (below 2e-6 per coordinate per cohort, logged). Under secure
    /// aggregation Compass aggregates groups only: its version 1 applies the six first
    /// updates together, where the plain run applies each first arrival alone (with weight
    /// alpha p_i = 0.15) as versions 1 to 5; and Compass's groups follow measured speeds, so
    /// two runs of the same seeds group, and see the kills, at other moments. Measured in
    /// three runs of this test: the secure run ahead by 0.16 at version 1 and by 0.052 to
    /// 0.064 at version 8, the plain run's final accuracy 0.777 to 0.789. So the test asks
    /// that the final accuracies differ by at most 0.10 and that the secure run is not
    /// behind by more than 0.03 (a sum weighed too little, or lost, leaves it behind), and
    /// that it learned (above 0.6; the initial model is at 0.1). That the sum is exactly the
    /// members' weighted sum is the FedAvg comparison's and the unit tests' to show.
    @Test("Compass with 6 clients under secure aggregation survives two kills and tracks the run without it")
    func compassSurvivesKillsAndTracksThePlainRun() async throws {
        try IntegrationEnvironment.requireDataset()
        for name in ["sextant-server", "sextant-client"] {
            _ = try IntegrationEnvironment.executable(name)
        }
        let plain = try await Self.compassRun(secure: false)
        let secure = try await Self.compassRun(secure: true)

        #expect(LogLines.first(in: secure.serverLog, containing: "serving")?.contains("secure_aggregation=on") == true)
        let unmasked = LogLines.all(in: secure.serverLog, containing: "secure aggregation cohort unmasked")
        #expect(!unmasked.isEmpty, "\(secure.serverLog.suffix(4000))")
        // client-5's masked input is in a sum: recovered from the others' shares when the
        // kill came before its answer to the unmasking (the stage then times out on it).
        #expect(
            secure.updates.contains { $0.client == "client-5" && $0.baseVersion >= 1 && $0.state == .applied },
            "client-5's masked input was not recovered\n\(secure.serverLog.suffix(4000))")
        let timedOut = LogLines.all(in: secure.serverLog, containing: "stage timed out").contains {
            $0.contains("client-5") && $0.contains("stage=unmasking")
        }
        #expect(!secure.updates.contains { $0.client == "client-4" && $0.baseVersion >= 2 && $0.state == .applied })

        // What the database held of any member, whenever it was looked at: ring values.
        #expect(!secure.observed.isEmpty)
        for (id, values) in secure.observed {
            let statistic = Self.topBitsChiSquare(values)
            // 15 degrees of freedom: P(chi-square > 60) < 1e-6.
            #expect(statistic < 60, "stored input \(id): chi-square \(statistic)")
        }
        // The same check tells the plain run's deltas apart.
        if let delta = plain.observed.values.first { #expect(Self.topBitsChiSquare(delta) > 1000) }
        // Once the run is over no member's values remain.
        #expect(secure.updates.allSatisfy { $0.state != .buffered })

        let last = Self.compassVersions
        let plainFinal = try #require(plain.accuracies[last], "\(plain.accuracies)")
        let secureFinal = try #require(secure.accuracies[last], "\(secure.accuracies)")
        #expect(secureFinal > 0.6, "secure \(secure.accuracies)")
        #expect(abs(plainFinal - secureFinal) <= 0.10, "plain \(plain.accuracies), secure \(secure.accuracies)")
        #expect(secureFinal >= plainFinal - 0.03, "plain \(plain.accuracies), secure \(secure.accuracies)")
        print(
            "compass secure aggregation: client-5 killed before answering the unmasking: \(timedOut); accuracy plain \(plain.accuracies.sorted { $0.key < $1.key }.map(\.value)), secure \(secure.accuracies.sorted { $0.key < $1.key }.map(\.value)); seconds per version plain \(plain.secondsPerVersion), secure \(secure.secondsPerVersion)"
        )
    }

    /// docs/design.md 13, crash and restart under Compass: the server is SIGKILLed while a
    /// group's masked inputs wait in the database; the restarted server discards them (it
    /// never unmasks a subset of an interrupted cohort), the members rejoin and train
    /// again, later groups form cohorts, and the run completes with nothing left buffered.
    @Test(
        "Compass under secure aggregation: a server killed mid-cohort restarts, discards the cohort's inputs and completes"
    )
    func compassSurvivesAServerKill() async throws {
        try IntegrationEnvironment.requireDataset()
        for name in ["sextant-server", "sextant-client"] {
            _ = try IntegrationEnvironment.executable(name)
        }
        let fixture = try FederationFixture(name: "secagg-compass-restart")
        defer { fixture.tearDown() }
        var configuration = fixture.configuration(name: "secagg-compass-restart")
        configuration.scheduler = "compass"
        configuration.clientCount = 5
        configuration.minClients = 5
        configuration.minLocalSteps = 10
        configuration.maxLocalSteps = 40
        configuration.maxVersions = 6
        configuration.trainingLimit = 10_000
        configuration.evaluationLimit = 1_000
        configuration.clientTimeout = 10
        configuration.extraYAML = """
            privacy:
              secure_aggregation: {enabled: true, clip_norm: 100, stage_timeout_seconds: 5}

            """
        let config = try fixture.write(configuration.yaml)
        let first = try fixture.startServer(config: config, name: "server-1")
        _ = try await fixture.waitForLogLine(first, containing: "serving", timeout: .seconds(60))
        let clients = try (0..<configuration.clientCount).map {
            try fixture.startClient(config: config, index: $0, timePerStep: 0.02)
        }
        let store = try fixture.openStore()
        let stored = try await Self.killWhileMaskedInputsWait(first, store: store, fixture: fixture)

        let second = try fixture.startServer(config: config, name: "server-2")
        let discarded = try await fixture.waitForLogLine(
            second, containing: "masked inputs of cohorts interrupted by the restart discarded", timeout: .seconds(60))
        #expect(discarded != nil, "\(fixture.diagnostics())")
        for process in clients + [second] {
            let ended = try await process.waitForExit(timeout: .seconds(240))
            try #require(ended, "\(process.name) did not finish\n\(fixture.diagnostics())")
        }
        #expect(second.exitedSuccessfully, "\(second.tail())")
        #expect(second.standardOutput.contains("completed at version \(configuration.maxVersions)"), "\(second.tail())")
        #expect(
            LogLines.all(in: second.standardError, containing: "secure aggregation cohort unmasked").count >= 1,
            "no cohort after the restart\n\(second.standardError.suffix(4000))")
        try Self.expectDiscarded(stored, store: store)
    }

    /// One Compass run of 6 clients with the two kills, with or without secure aggregation.
    static func compassRun(secure: Bool) async throws -> CompassRun {
        let fixture = try FederationFixture(name: secure ? "secagg-compass" : "secagg-compass-plain")
        defer { fixture.tearDown() }
        var configuration = fixture.configuration(name: "secagg-compass")
        configuration.scheduler = "compass"
        configuration.clientCount = compassClients
        configuration.minClients = compassClients
        configuration.minLocalSteps = 10
        configuration.maxLocalSteps = 40
        configuration.maxVersions = compassVersions
        configuration.trainingLimit = 12_000
        configuration.evaluationLimit = 1_000
        configuration.clientTimeout = 10
        if secure {
            configuration.extraYAML = """
                privacy:
                  secure_aggregation: {enabled: true, clip_norm: 100, stage_timeout_seconds: 5}

                """
        }
        let config = try fixture.write(configuration.yaml)
        let server = try fixture.startServer(config: config)
        _ = try await fixture.waitForLogLine(server, containing: "serving", timeout: .seconds(60))
        let clients = try compassSpeeds.enumerated().map {
            try fixture.startClient(config: config, index: $0, timePerStep: $1)
        }
        let store = try fixture.openStore()
        var observed: [Int64: [Float]] = [:]
        func look() throws -> Run? {
            guard let run = try store.latestRun() else { return nil }
            for update in try store.pendingUpdates(run: run.id) {
                if let values = update.delta { observed[update.id] = values }
            }
            return run
        }

        // client-5: killed as soon as the server holds its contribution to a version after
        // the first (its masked input, or without secure aggregation its update, stored; the
        // client's own "masked input sent" line is not enough: a kill right after it can
        // catch the message still in the client's queue, and then it was never sent).
        let contributed = try await fixture.wait(timeout: .seconds(180), every: .milliseconds(2)) {
            guard server.isRunning, clients[5].isRunning else { return true }
            guard let run = try look() else { return false }
            return try store.updates(run: run.id).contains { $0.client == "client-5" && $0.baseVersion >= 1 }
        }
        try #require(contributed && server.isRunning && clients[5].isRunning, "\(fixture.diagnostics())")
        clients[5].send(SIGKILL)

        // client-4: killed while it trains a task of a later version.
        let training = try await fixture.wait(timeout: .seconds(180), every: .milliseconds(20)) {
            _ = try look()
            return !clients[4].isRunning
                || LogLines.all(in: clients[4].standardError, containing: "] training").contains {
                    $0.hasSuffix("] training") && (LogLines.value(of: "version", in: $0).flatMap { Int($0) } ?? 0) >= 2
                }
        }
        try #require(training && clients[4].isRunning, "\(fixture.diagnostics())")
        clients[4].send(SIGKILL)

        let ended = try await fixture.wait(timeout: .seconds(300), every: .milliseconds(50)) {
            _ = try look()
            return !server.isRunning
        }
        try #require(ended, "the server did not finish\n\(fixture.diagnostics())")
        #expect(server.exitedSuccessfully, "\(server.tail())")
        for process in clients[0..<4] {
            let exited = try await process.waitForExit(timeout: .seconds(60))
            #expect(exited && process.exitedSuccessfully, "\(process.tail())")
        }
        let run = try #require(try store.latestRun())
        #expect(run.status == .completed)
        let summaries = try store.checkpointSummaries(run: run.id)
        #expect(summaries.last?.version == compassVersions)
        var accuracies: [Int: Double] = [:]
        for summary in summaries.dropFirst() { accuracies[summary.version] = summary.accuracy }
        let seconds = summaries.dropFirst().compactMap { $0.metrics["seconds"] }
        return CompassRun(
            accuracies: accuracies, serverLog: server.standardError, updates: try store.updates(run: run.id),
            observed: observed, secondsPerVersion: zip(seconds.dropFirst(), seconds).map { $0 - $1 })
    }
}
