import Foundation
import SextantBenchmarks
import SextantML
import Testing

@testable import SextantClient
@testable import SextantLauncher
@testable import SextantRuntime
@testable import SextantServer
@testable import SextantSimulation

@Suite struct FederationConfigurationTests {
    func decode(_ yaml: String) throws -> FederationConfiguration { try decodeConfiguration(yaml) }
    func message(of yaml: String) -> String? { refusal(of: yaml) }

    @Test func defaultsApplyToAnEmptyFile() throws {
        let configuration = try decode("{}")
        #expect(configuration.model.spec == ModelArchitecture.mlp.spec)
        #expect(configuration.scheduler.kind == "fedavg")
        #expect(configuration.training.batchSize == 64)
        #expect(configuration.clients.count == 4)
    }

    @Test func modelAsAMappingNamesInitialWeights() throws {
        let configuration = try decode("model: {name: logreg, initial_weights: w.safetensors}")
        #expect(configuration.model.spec == ModelArchitecture.logreg.spec)
        #expect(configuration.model.initialWeights == "w.safetensors")
        #expect(try decode("model: cnn").model.initialWeights == nil)
        #expect(message(of: "model: {name: mlp, weights: w.safetensors}")?.contains("unknown keys weights") == true)
    }

    @Test func theDemoConfigurationIsValid() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("configs/demo.yaml")
        let configuration = try FederationConfiguration.load(from: url)
        #expect(configuration.clients.count >= 4)
        #expect(configuration.server.database.hasSuffix(".sqlite"))
    }

    @Test func valuesAreRead() throws {
        let configuration = try decode(
            """
            model: cnn
            training: {learning_rate: 0.1, batch_size: 32}
            stop: {max_versions: 7, target_accuracy: 0.5}
            clients: {count: 3, mean_time_per_step: 0.2, speed_distribution: exponential}
            """)
        #expect(configuration.model.spec == ModelArchitecture.cnn.spec)
        #expect(configuration.training.learningRate == 0.1)
        #expect(configuration.stop.maxVersions == 7)
        #expect(configuration.clients.speedDistribution == "exponential")
    }

    @Test(arguments: [
        ("modle: mlp", "unknown key 'modle'"),
        ("training: {learnig_rate: 0.1}", "unknown key 'training.learnig_rate'"),
        ("model: resnet", "unknown model 'resnet'"),
        ("training: {batch_size: 0}", "batch size must be a positive integer, got 0"),
        ("training: {batch_size: many}", "key 'training.batch_size' must be an integer"),
        ("training: {learning_rate: -1}", "learning rate must be a positive finite number"),
        ("stop: {target_accuracy: 1.5}", "key 'stop.target_accuracy' has value 1.5"),
        ("server: {bind: 'localhost:70'}", "key 'server.bind'"),
        ("data: {partition: random}", "unknown partition 'random'"),
        ("clients: {speed_distribution: uniform}", "key 'clients.speed_distribution'"),
        ("scheduler: {kind: magic}", "key 'scheduler.kind'"),
        ("model: [", "not valid YAML"),
    ])
    func badConfigurationsNameTheProblem(yaml: String, expected: String) {
        let text = message(of: yaml)
        #expect(text?.contains(expected) == true, "got: \(text ?? "no error")")
    }

    @Test func aMissingFileIsNamed() {
        #expect(throws: RuntimeError.self) {
            try FederationConfiguration.load(from: URL(fileURLWithPath: "/nonexistent/federation.yaml"))
        }
    }
}

@Suite struct SpeedModelTests {
    @Test func fixedSpeedIsTheMean() {
        var speed = SpeedModel(meanTimePerStep: 0.5, distribution: .fixed, seed: 1)
        #expect(speed.timePerStep == 0.5)
        let jittered = (0..<2000).map { _ in speed.nextTaskTimePerStep() }
        let mean = jittered.reduce(0, +) / Double(jittered.count)
        // 5% jitter: the mean of 2000 draws is within 5 standard errors (5 * 0.025 / sqrt(2000)).
        #expect(abs(mean - 0.5) < 0.003)
    }

    @Test func normalSpeedsSpreadAroundTheMeanAndStayPositive() {
        let speeds = (0..<500).map {
            SpeedModel(meanTimePerStep: 1, distribution: .normal, seed: UInt64($0)).timePerStep
        }
        #expect(speeds.allSatisfy { $0 > 0 })
        let mean = speeds.reduce(0, +) / Double(speeds.count)
        #expect(abs(mean - 1) < 0.08)
        #expect(Set(speeds).count > 400)
    }

    /// Each seed of an experiment draws its clients' speeds afresh: no client of one seed
    /// has the speed of any client of a neighbouring seed.
    @Test func neighbouringSeedsDrawUnrelatedSpeeds() {
        var clients = ClientsSection()
        clients.count = 5
        clients.meanTimePerStep = 1
        func speeds(seed: UInt64) -> Set<Double> {
            Set((0..<5).map { clients.speed(ofClient: $0, seed: seed).timePerStep })
        }
        for seed: UInt64 in 1...4 {
            #expect(speeds(seed: seed).count == 5)
            #expect(speeds(seed: seed).isDisjoint(with: speeds(seed: seed + 1)), "seeds \(seed) and \(seed + 1)")
        }
    }

    @Test(arguments: [SpeedModel.Distribution.fixed, .normal, .exponential])
    func zeroMeanMeansNoEmulation(distribution: SpeedModel.Distribution) {
        var speed = SpeedModel(meanTimePerStep: 0, distribution: distribution, seed: 4)
        #expect(speed.timePerStep == 0)
        #expect(speed.nextTaskTimePerStep() == 0)
    }
}
