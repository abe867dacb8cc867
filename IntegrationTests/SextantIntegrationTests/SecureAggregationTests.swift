import Foundation
import SextantStore
import SextantWire
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension IntegrationTests {
    @Suite("Secure aggregation")
    struct SecureAggregationTests {
        static let secureYAML = """
            privacy:
              secure_aggregation: {enabled: true, clip_norm: 100, stage_timeout_seconds: 10}

            """

        /// docs/design.md 13: 4 clients run FedAvg rounds as cohorts; the run completes, and
        /// every version's accuracy is that of the same seeded run without secure aggregation
        /// up to the quantisation error.
        ///
        /// Tolerance: the decoded sum of a cohort differs from the float sum of its clipped,
        /// weighted deltas by less than m / s per coordinate (`RingQuantizer.sumErrorBound`:
        /// 4 members, clip norm 100, 32-bit ring: 7.5e-7, logged by the server), far below
        /// what moves a prediction; only test examples whose two largest logits lie that
        /// close can change class. 0.5 percentage points (5 of the 1000 test examples) allows
        /// for such examples and for the different order of the float sums; the runs are
        /// otherwise identical (same seeds, same local training).
        @Test("FedAvg with 4 clients under secure aggregation tracks the same run without it")
        func fedAvgMatchesThePlainRun() async throws {
            try IntegrationEnvironment.requireDataset()
            for name in ["sextant", "sextant-server", "sextant-client"] {
                _ = try IntegrationEnvironment.executable(name)
            }
            var accuracies: [[Double]] = []
            var secureLog = ""
            for secure in [false, true] {
                let fixture = try FederationFixture(name: secure ? "secagg" : "secagg-plain")
                defer { fixture.tearDown() }
                var configuration = fixture.configuration(name: "secagg")
                configuration.maxVersions = 5
                configuration.trainingLimit = 8_000
                configuration.evaluationLimit = 1_000
                if secure { configuration.extraYAML = Self.secureYAML }
                let config = try fixture.write(configuration.yaml)
                let logs = fixture.directory.appendingPathComponent("logs")
                let launch = try fixture.start(
                    "launch", executable: "sextant",
                    arguments: ["launch", "--config", config.path, "--logs", logs.path])
                let ended = try await launch.waitForExit(timeout: .seconds(240))
                let serverLog =
                    (try? String(contentsOf: logs.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
                try #require(ended, "launch did not finish\n\(fixture.diagnostics())\n\(serverLog.suffix(3000))")
                #expect(launch.exitedSuccessfully, "\(fixture.diagnostics())\n\(serverLog.suffix(3000))")
                let store = try fixture.openStore()
                let run = try #require(try store.latestRun())
                #expect(run.status == .completed)
                let summaries = try store.checkpointSummaries(run: run.id)
                #expect(summaries.map(\.version) == Array(0...configuration.maxVersions))
                accuracies.append(summaries.dropFirst().compactMap(\.accuracy))
                let updates = try store.updates(run: run.id)
                #expect(updates.count == configuration.clientCount * configuration.maxVersions, "\(updates.count)")
                #expect(updates.allSatisfy { $0.state == .applied })
                if secure { secureLog = serverLog }
            }
            #expect(LogLines.first(in: secureLog, containing: "serving")?.contains("secure_aggregation=on") == true)
            let unmasked = secureLog.split(separator: "\n").filter { $0.contains("secure aggregation cohort unmasked") }
            #expect(unmasked.count == 5, "\(secureLog.suffix(3000))")
            #expect(unmasked.allSatisfy { LogLines.value(of: "survivors", in: $0) == "4" })
            #expect(accuracies[0].count == 5 && accuracies[1].count == 5)
            for (plain, secure) in zip(accuracies[0], accuracies[1]) {
                #expect(abs(plain - secure) <= 0.005, "plain \(accuracies[0]), secure \(accuracies[1])")
            }
        }

        /// docs/design.md 13: what the server stores of a member is its masked input, uniform
        /// in the ring (a chi-square test over the top 4 bits, which a Float32 delta's bit
        /// patterns fail by orders of magnitude); it is stored before its ack. A server killed
        /// mid-cohort discards the interrupted cohort's masked inputs on restart (never
        /// unmasking any subset of them) and the members train again; the run completes.
        @Test("stored masked inputs are uniform ring values, and a server killed mid-cohort resumes with fresh cohorts")
        func maskedInputsAreUniformAndSurviveAKill() async throws {
            try IntegrationEnvironment.requireDataset()
            for name in ["sextant-server", "sextant-client"] {
                _ = try IntegrationEnvironment.executable(name)
            }
            let fixture = try FederationFixture(name: "secagg-kill")
            defer { fixture.tearDown() }
            var configuration = fixture.configuration(name: "secagg-kill")
            configuration.maxVersions = 6
            configuration.trainingLimit = 8_000
            configuration.evaluationLimit = 1_000
            configuration.roundTimeout = 15
            configuration.speedDistribution = "normal"  // members finish apart: inputs wait in the database
            configuration.extraYAML = Self.secureYAML
            let config = try fixture.write(configuration.yaml)
            let first = try fixture.startServer(config: config, name: "server-1")
            _ = try await fixture.waitForLogLine(first, containing: "serving", timeout: .seconds(60))
            let clients = try (0..<configuration.clientCount).map {
                try fixture.startClient(config: config, index: $0, timePerStep: 0.05)
            }
            let store = try fixture.openStore()
            let stored = try await Self.killWhileMaskedInputsWait(first, store: store, fixture: fixture)
            // The same check rejects an unmasked delta: small floats share their exponent bits.
            let plainDelta = (0..<(stored[0].delta?.count ?? 0)).map { Float(sin(Double($0))) * 0.01 }
            #expect(Self.topBitsChiSquare(plainDelta) > 1000)

            let second = try fixture.startServer(config: config, name: "server-2")
            let discarded = try await fixture.waitForLogLine(
                second, containing: "masked inputs of cohorts interrupted by the restart discarded",
                timeout: .seconds(60))
            #expect(discarded.flatMap { LogLines.value(of: "count", in: $0) } != nil, "\(fixture.diagnostics())")
            // The members, re-assigned one by one as they rejoin, gather into a fresh cohort.
            let reopened = try await fixture.waitForLogLine(
                second, containing: "secure aggregation cohort opened", timeout: .seconds(60))
            #expect(reopened != nil, "\(fixture.diagnostics())")
            for process in clients + [second] {
                let ended = try await process.waitForExit(timeout: .seconds(180))
                try #require(ended, "\(process.name) did not finish\n\(fixture.diagnostics())")
            }
            #expect(second.exitedSuccessfully, "\(second.tail())")
            #expect(second.standardOutput.contains("completed at version \(configuration.maxVersions)"))
            try Self.expectDiscarded(stored, store: store)
        }

        /// Waits until a version after the first exists and masked inputs wait in the
        /// database, SIGKILLs `server` then, checks that each stored input is uniform in the
        /// ring, and returns them.
        static func killWhileMaskedInputsWait(
            _ server: ManagedProcess, store: CheckpointStore, fixture: FederationFixture
        ) async throws -> [StoredUpdate] {
            var stored: [StoredUpdate] = []
            let caught = try await fixture.wait(timeout: .seconds(180), every: .milliseconds(2)) {
                guard server.isRunning, let run = try store.latestRun() else { return true }
                guard (try store.checkpointVersions(run: run.id).last ?? 0) >= 1 else { return false }
                stored = try store.pendingUpdates(run: run.id).filter { $0.delta != nil }
                return !stored.isEmpty
            }
            try #require(caught && server.isRunning && !stored.isEmpty, "\(fixture.diagnostics())")
            server.send(SIGKILL)
            try #require(try await server.waitForExit(timeout: .seconds(10)))
            for update in stored {
                let statistic = topBitsChiSquare(try #require(update.delta))
                // 15 degrees of freedom: P(chi-square > 60) < 1e-6.
                #expect(statistic < 60, "update \(update.id) of \(update.client): chi-square \(statistic)")
            }
            return stored
        }

        /// Every masked input acknowledged before a kill was kept, then discarded by the
        /// restarted server (never unmasked), and nothing is left buffered.
        static func expectDiscarded(_ stored: [StoredUpdate], store: CheckpointStore) throws {
            let run = try #require(try store.latestRun())
            let updates = try store.updates(run: run.id)
            for update in stored {
                #expect(
                    updates.first { $0.id == update.id }?.state == .discarded,
                    "masked input \(update.id), acknowledged before the kill, was not kept and then discarded")
            }
            #expect(updates.allSatisfy { $0.state != .buffered })
        }

        /// docs/design.md 13 and docs/secure-aggregation.md 4: with `noise_multiplier` each
        /// member adds discrete Gaussian noise in the ring; every checkpoint's epsilon is
        /// recomputed here from the configuration alone, with the formulas written out: the
        /// quantiser's scale and sensitivity bound, each member's variance, the RDP of the
        /// survivors' summed noise per round, composed and converted at the run's delta.
        @Test("distributed DP: the stored epsilon of every version is recomputed independently")
        func distributedEpsilonIsRecomputed() async throws {
            try IntegrationEnvironment.requireDataset()
            let fixture = try FederationFixture(name: "secagg-dp")
            defer { fixture.tearDown() }
            var configuration = fixture.configuration(name: "secagg-dp")
            configuration.maxVersions = 3
            configuration.trainingLimit = 8_000
            configuration.evaluationLimit = 500
            let (clip, z) = (0.1, 1.0)
            configuration.extraYAML = """
                privacy:
                  delta: 1.0e-5
                  secure_aggregation: {enabled: true, clip_norm: \(clip), noise_multiplier: \(z), stage_timeout_seconds: 20}

                """
            let config = try fixture.write(configuration.yaml)
            let logs = fixture.directory.appendingPathComponent("logs")
            let launch = try fixture.start(
                "launch", executable: "sextant", arguments: ["launch", "--config", config.path, "--logs", logs.path])
            let ended = try await launch.waitForExit(timeout: .seconds(180))
            try #require(ended && launch.exitedSuccessfully, "\(fixture.diagnostics())")
            let store = try fixture.openStore()
            let run = try #require(try store.latestRun())
            let summaries = try store.checkpointSummaries(run: run.id).dropFirst()
            #expect(summaries.count == configuration.maxVersions)
            let dimension = try #require(run.fingerprint.split(separator: ":").last.flatMap { Int($0) })

            // The quantiser of docs/secure-aggregation.md 1 for n = clients.count members.
            let n = Double(configuration.clientCount)
            let d = Double(dimension)
            let memberNoise = z * clip / n.squareRoot()
            let scale = (Double(Int32.max) - n) / (n * clip + 8 * memberNoise * n.squareRoot()) * (1 - 1e-9)
            let sc = scale * clip
            // Conditional rounding with beta = e^{-1/2}: sqrt(2 ln(1/beta)) = 1.
            let sensitivity = min(sc + d.squareRoot(), (sc * sc + d / 4 + (sc + d.squareRoot() / 2)).squareRoot())
            let sigma = memberNoise * scale
            // The sampler keeps the variance as an integer once it is at least 2^20.
            let variance =
                sigma * sigma >= 1_048_576 ? (sigma * sigma).rounded() : (sigma * sigma * 1024).rounded() / 1024
            let orders = (11...109).map { Double($0) / 10 } + (11...63).map(Double.init) + [128, 256, 512, 1024]
            var rdp = [Double](repeating: 0, count: orders.count)
            for summary in summaries {
                let members = try #require(summary.metrics["updates"])
                var tau = 0.0
                for k in stride(from: 1.0, to: members, by: 1) {
                    tau += exp(-2 * Double.pi * Double.pi * variance * k / (k + 1))
                }
                tau *= 10
                for (index, alpha) in orders.enumerated() {
                    let ratio = sensitivity / (members * variance).squareRoot()
                    rdp[index] += min(
                        alpha * ratio * ratio / 2 + tau * d,
                        alpha / 2 * (ratio + tau * d.squareRoot()) * (ratio + tau * d.squareRoot()))
                }
                let epsilon = zip(orders, rdp).map { alpha, value in
                    value + log((alpha - 1) / alpha) - (log(1e-5) + log(alpha)) / (alpha - 1)
                }.min()!
                let stored = try #require(summary.epsilon, "version \(summary.version) has no epsilon")
                #expect(
                    abs(stored - max(0, epsilon)) <= 1e-9 * max(1, epsilon),
                    "version \(summary.version): stored \(stored), recomputed \(epsilon)")
                let storedSensitivity = try #require(summary.metrics["distributed_sensitivity"])
                #expect(abs(storedSensitivity - sensitivity) <= 1e-6 * sensitivity)
            }
        }

        /// docs/design.md 13, "Who may say what": a cohort message before joining, for a cohort
        /// that is not open, or an invitation sent to the server, and a plain update in a run
        /// under secure aggregation, are each refused with one error and change nothing.
        @Test("cohort messages out of turn and plain updates are refused")
        func claimsAreChecked() async throws {
            try IntegrationEnvironment.requireDataset()
            let fixture = try FederationFixture(name: "secagg-claims")
            defer { fixture.tearDown() }
            var configuration = fixture.configuration(name: "secagg-claims")
            configuration.extraYAML = Self.secureYAML
            let config = try fixture.write(configuration.yaml)
            let server = try fixture.startServer(config: config)
            let serving = try await fixture.waitForLogLine(server, containing: "serving", timeout: .seconds(60))
            let fingerprint = try #require(serving.flatMap { LogLines.value(of: "model", in: $0) })
            let run = try #require(serving.flatMap { LogLines.value(of: "run", in: $0) })
            let parameters = try #require(fingerprint.split(separator: ":").last.flatMap { Int($0) })
            func cohort(_ id: UInt64, _ content: CohortMessage.Content, run: String = run) -> [OutboundFrame] {
                WireCodec.encode(.cohort(CohortMessage(runID: run, cohort: id, content: content)))
            }
            let step = CohortMessage.Content.step(body: [0x53, 0x41, 1, 0], report: nil)
            let invitation = CohortMessage.Content.invitation(
                .init(
                    member: 1, members: 3, threshold: 2, bits: 32, clipNorm: 100, maxMembers: 4, weight: 0.5,
                    baseVersion: 0))
            let probes = [
                Probe(name: "cohort step before joining", frames: cohort(1, step), expectation: .error(.notJoined)),
                Probe(
                    name: "join",
                    frames: WireCodec.encode(
                        .join(
                            JoinMessage(
                                clientName: "prober", sampleCount: 10, modelFingerprint: fingerprint,
                                secureAggregation: true))),
                    expectation: .admitted),
                Probe(
                    name: "step of another run", frames: cohort(1, step, run: "other"),
                    expectation: .error(.unsolicited)),
                Probe(name: "step of a cohort not open", frames: cohort(77, step), expectation: .error(.unsolicited)),
                Probe(
                    name: "invitation to the server", frames: cohort(77, invitation), expectation: .error(.malformed)),
                Probe(
                    name: "plain update",
                    frames: WireCodec.encode(
                        .update(
                            UpdateMessage(
                                updateID: 1, baseVersion: 0, stepsDone: 1, computeSeconds: 0, sampleCount: 10,
                                trainLoss: 0, normBeforeClip: 0, clipped: false,
                                delta: FloatPayload([Float](repeating: 0, count: parameters))))),
                    expectation: .error(.rejected)),
            ]
            let outcomes = try await ProbeSession.run(probes, endpoint: fixture.endpoint, routingID: "prober")
            for outcome in outcomes {
                switch outcome.probe.expectation {
                case .error(let code): #expect(outcome.errorCode == code, "\(outcome.summary)")
                case .admitted: #expect(outcome.errorCode == nil, "\(outcome.summary)")
                }
            }
            #expect(server.isRunning)
            server.send(SIGTERM)
            _ = try await server.waitForExit(timeout: .seconds(20))
            let store = try fixture.openStore()
            let stored = try #require(try store.latestRun())
            #expect(try store.updates(run: stored.id).isEmpty, "a refused message was stored")
        }

        /// Pearson's chi-square of the top 4 bits of each value's bit pattern against the
        /// uniform distribution over 16 bins.
        static func topBitsChiSquare(_ values: [Float]) -> Double {
            var bins = [Double](repeating: 0, count: 16)
            for value in values { bins[Int(value.bitPattern >> 28)] += 1 }
            let expected = Double(values.count) / 16
            return bins.reduce(0) { $0 + ($1 - expected) * ($1 - expected) / expected }
        }
    }
}
