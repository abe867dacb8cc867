import Foundation
import Logging
import SextantClient
import SextantLauncher
import SextantML
import SextantRuntime
import SextantScheduling
import SextantServer
import SextantSimulation
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite struct ExperimentRunnerTests {
    static let allAlgorithms = "compass,fedavg,fedasync,fedbuff,fedavgm"

    func configuration(_ yaml: String) throws -> FederationConfiguration {
        let configuration = try ConfigurationLoader.decode(
            FederationConfiguration.self, from: yaml, name: "test.yaml", allowedKeys: FederationConfiguration.keys)
        try configuration.validate()
        return configuration
    }

    /// The simulator trains plain deltas: a configuration asking for privacy is named in its
    /// warning, so nobody reads its curves as those of a private run.
    @Test func privacyTheSimulatorDoesNotModelIsNamed() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../configs").standardized
        let plain = try FederationConfiguration.load(from: directory.appendingPathComponent("demo.yaml"))
        #expect(ExperimentRunner.unmodelledPrivacy(plain.privacy) == nil)
        let secure = try FederationConfiguration.load(
            from: directory.appendingPathComponent("privacy/secure-aggregation.yaml"))
        #expect(ExperimentRunner.unmodelledPrivacy(secure.privacy) == "privacy.secure_aggregation")
        var clientLevel = plain.privacy
        clientLevel.mode = .clientLevel
        #expect(ExperimentRunner.unmodelledPrivacy(clientLevel) == "privacy.mode client-level")
    }

    /// Three clients on a seeded synthetic problem (Fashion-MNIST-free, fast).
    func syntheticRunner(
        seed: UInt64, maxVersions: Int = 4, maxTime: Double = .infinity, stopTarget: Double? = nil, stopHeld: Int = 3
    ) throws -> ExperimentRunner {
        let configuration = try configuration(
            """
            run: {seed: \(seed)}
            model: logreg
            training: {learning_rate: 0.05, batch_size: 16}
            scheduler: {min_clients: 3, local_steps: 5, min_local_steps: 2, max_local_steps: 8}
            clients: {count: 3, speed_distribution: exponential}
            """)
        let problem = SyntheticClassification(features: 12, classCount: 4, seed: seed)
        let train = problem.makeDataset(count: 240)
        let clients = (0..<3).map { index in train.subset(Array(stride(from: index, to: train.count, by: 3))) }
        var options = ExperimentRunner.Options(
            algorithms: try ExperimentRunner.algorithms(named: Self.allAlgorithms), maxTime: maxTime,
            maxVersions: maxVersions, latency: 0.5)
        options.stopTarget = stopTarget
        options.stopHeld = stopHeld
        return try ExperimentRunner(
            configuration: configuration, options: options, clientData: clients,
            testSet: problem.makeDataset(count: 100, stream: 1))
    }

    @Test func aSliceOfFashionMNISTGivesOneCurvePerAlgorithm() throws {
        let configuration = try configuration(
            """
            run: {seed: 3}
            model: logreg
            data: {partition: class, training_limit: 500, evaluation_limit: 200}
            training: {batch_size: 32}
            scheduler: {min_clients: 3, local_steps: 10, min_local_steps: 5, max_local_steps: 20}
            clients: {count: 3, speed_distribution: normal}
            """)
        guard FileManager.default.fileExists(atPath: configuration.data.directory) else { return }
        let runner = try ExperimentRunner(
            configuration: configuration,
            options: .init(algorithms: try ExperimentRunner.algorithms(named: Self.allAlgorithms), maxVersions: 3))
        // clients.mean_time_per_step is 0: docs/design.md 5.3's 0.15 s applies.
        #expect(runner.secondsPerStep.count == 3)
        #expect(runner.secondsPerStep.allSatisfy { $0 > 0 && $0 < 0.15 * 3 })
        var report = try runner.run(logger: Logger(label: "test"))
        report.targetAccuracy = 0.3

        let lines = report.csv.split(separator: "\n").map(String.init)
        #expect(lines.first == "algorithm,version,virtual_seconds,accuracy,loss")
        var times: [String: [Double]] = [:]
        var versions: [String: [Int]] = [:]
        for line in lines.dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            try #require(fields.count == 5)
            let accuracy = try #require(Double(fields[3]))
            #expect(accuracy >= 0 && accuracy <= 1)
            #expect(Double(fields[4]) != nil)
            times[fields[0], default: []].append(try #require(Double(fields[2])))
            versions[fields[0], default: []].append(try #require(Int(fields[1])))
        }
        #expect(Set(times.keys) == ["compass", "fedavg", "fedasync", "fedbuff", "fedavgm"])
        for (algorithm, series) in times {
            #expect(series.first == 0, "\(algorithm) starts from the initial model at time 0")
            #expect(zip(series, series.dropFirst()).allSatisfy { $0 <= $1 }, "\(algorithm): virtual time goes back")
            #expect(versions[algorithm] == [0, 1, 2, 3], "\(algorithm) evaluates every version")
        }
        #expect(report.table.contains("| compass |"))

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sextant-simulate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try report.write(to: directory, title: "slice", setup: "test")
        for name in ["results.csv", "summary.md", "accuracy.svg"] {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path))
        }
    }

    @Test func theSVGIsSelfContainedWithOneLinePerAlgorithm() throws {
        let report = try syntheticRunner(seed: 5).run(logger: Logger(label: "test"))
        let svg = report.svg(title: "a <title> & more")
        #expect(svg.components(separatedBy: "<polyline class=\"series\"").count - 1 == 5)
        for algorithm in ["compass", "fedavg", "fedasync", "fedbuff", "fedavgm"] {
            #expect(svg.contains("data-name=\"\(algorithm)\""))
        }
        // The only URL is the SVG namespace: no links, images, scripts or fonts from elsewhere.
        let body = svg.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        for forbidden in ["http:", "https:", "href", "url(", "<script", "<image", "@import"] {
            #expect(!body.contains(forbidden), "the SVG contains \(forbidden)")
        }
        #expect(svg.contains("a &lt;title&gt; &amp; more"))
        #if canImport(FoundationXML)
            let parser = XMLParser(data: Data(svg.utf8))
            #expect(parser.parse(), "the SVG is not well-formed XML: \(String(describing: parser.parserError))")
        #endif
        #expect(svg.hasPrefix("<?xml"))
        #expect(svg.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("</svg>"))
    }

    @Test func theSameSeedGivesIdenticalResults() throws {
        let first = try syntheticRunner(seed: 11).run(logger: Logger(label: "test"))
        let second = try syntheticRunner(seed: 11).run(logger: Logger(label: "test"))
        #expect(first.csv == second.csv)
        let other = try syntheticRunner(seed: 12).run(logger: Logger(label: "test"))
        #expect(first.csv != other.csv)
    }

    @Test func theTimeBudgetIsRespected() throws {
        let report = try syntheticRunner(seed: 2, maxVersions: 1000, maxTime: 8).run(logger: Logger(label: "test"))
        for outcome in report.outcomes {
            #expect(outcome.points.allSatisfy { $0.virtualSeconds <= 8 })
            #expect(outcome.virtualSeconds <= 8)
            #expect(outcome.versions < 1000)
        }
        let async = try #require(report.outcomes.first { $0.algorithm == "fedasync" })
        #expect(async.updatesApplied == async.versions, "FedAsync applies one update per version")
    }

    @Test func aRunStopsOnceItsTargetHasHeld() throws {
        let unstopped = try syntheticRunner(seed: 4, maxVersions: 30).run(logger: Logger(label: "test"))
        // The initial model of four classes is right more often than 1% of the time, so the
        // target holds from version 0 and every algorithm stops after its second evaluation.
        let report = try syntheticRunner(seed: 4, maxVersions: 30, stopTarget: 0.01, stopHeld: 2).run(
            logger: Logger(label: "test"))
        for (stopped, full) in zip(report.outcomes, unstopped.outcomes) {
            #expect(stopped.points.map(\.version) == [0, 1], "\(stopped.algorithm) ran past the held target")
            #expect(stopped.points == Array(full.points.prefix(2)), "\(stopped.algorithm): stopping changed the curve")
            #expect(TimeToTarget.robust(stopped.points, target: 0.01, held: 2) == 0)
            #expect(full.versions == 30)
        }
    }

    @Test(arguments: [(0.0, 3), (1.5, 3), (0.8, 0)])
    func aStopTargetOutsideItsRangeIsNamed(_ target: Double, _ held: Int) throws {
        #expect(throws: RuntimeError.self) { try syntheticRunner(seed: 4, stopTarget: target, stopHeld: held) }
    }

    @Test(arguments: ["compass,fedsgd", "scaffold", " ,fedavg,fedprox"])
    func anUnknownAlgorithmIsNamed(_ list: String) {
        let unknown = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .first { !$0.isEmpty && SchedulerKind(rawValue: $0) == nil }!
        #expect {
            _ = try ExperimentRunner.algorithms(named: list)
        } throws: { error in
            guard let error = error as? RuntimeError else { return false }
            return error.code == .invalidConfiguration && error.message.contains("'\(unknown)'")
                && error.message.contains("compass, fedavg")
        }
    }

    @Test func algorithmNamesAreTrimmedAndDeduplicated() throws {
        #expect(try ExperimentRunner.algorithms(named: " FedAvg, compass,fedavg ") == [.fedavg, .compass])
    }

    @Test func timeToTargetIsTheFirstCrossing() {
        let points = [(0.0, 0.1), (5.0, 0.6), (9.0, 0.55), (12.0, 0.7)].enumerated().map {
            SimulationPoint(
                algorithm: "x", version: $0.offset, virtualSeconds: $0.element.0, accuracy: $0.element.1, loss: 1)
        }
        let outcome = AlgorithmOutcome(
            algorithm: "x", points: points, versions: 3, updatesApplied: 3, tasksAssigned: 3, virtualSeconds: 12)
        #expect(outcome.firstPoint(reaching: 0.58)?.virtualSeconds == 5)
        #expect(outcome.firstPoint(reaching: 0.65)?.version == 3)
        #expect(outcome.firstPoint(reaching: 0.9) == nil)
        let table = SimulationReport(targetAccuracy: 0.9, outcomes: [outcome]).table
        #expect(table.contains("not reached"))
    }
}
