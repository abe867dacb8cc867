import Foundation
import SextantAudit
import SextantBenchmarks
import SextantML
import SextantPrivacy
import SextantTestSupport
import Testing

@testable import SextantClient
@testable import SextantLauncher
@testable import SextantRuntime
@testable import SextantServer
@testable import SextantSimulation

@Suite struct FederationDataTests {
    static let hasFashionMNIST = FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory.path)

    @Test(.enabled(if: hasFashionMNIST))
    func aClientConvertsExactlyItsOwnPartition() throws {
        var configuration = FederationConfiguration()
        configuration.data.partition = "class"
        configuration.data.trainingLimit = 600
        configuration.clients.count = 3
        let labels = Array(try FashionMNIST.labels(.train).prefix(600))
        let partition = try Partitioner.classes.split(
            labels: labels, classCount: 10, clients: 3, seed: configuration.run.seed)
        let reference = try FashionMNIST.load(.train, limit: 600).subset(partition.clients[1])
        let loaded = try FederationData.loadPartition(configuration, index: 1)
        #expect(loaded.labels == reference.labels)
        #expect(loaded.features == reference.features)
    }

    @Test(.enabled(if: hasFashionMNIST))
    func anIndexOutsideTheSplitIsRefused() {
        #expect(throws: SextantMLError.self) { try FashionMNIST.load(.test, indices: [0, 10_000]) }
    }

    @Test func aSubjectFederationIsReadFromTheFilesSynthWrites() throws {
        let directory = try TemporaryDirectory()
        var subjects = SubjectFederationGenerator.Configuration()
        subjects.subjects = 12
        subjects.clients = 2
        subjects.recordsPerSubject = 4
        subjects.auditSamplesPerSubject = 2
        let truth = try SubjectFederationGenerator(configuration: subjects).makeTabular().write(to: directory.url)
        var configuration = FederationConfiguration()
        configuration.data.dataset = "subject-federation"
        configuration.data.directory = directory.url.path
        configuration.clients.count = 2
        let first = try FederationData.loadPartition(configuration, index: 0)
        #expect(first.count == truth.clients[0].records)
        #expect(first.subjects != nil)
        // Tabular federations are evaluated on the subjects' audit samples.
        #expect(try FederationData.loadTestSet(configuration.data).count == 12 * 2)

        configuration.clients.count = 3
        #expect {
            try FederationData.loadPartition(configuration, index: 0)
        } throws: { ($0 as? RuntimeError)?.message.contains("holds partitions for 2 clients") == true }
    }

    @Test func aMissingSubjectFederationSaysHowToMakeOne() {
        var data = DataSection()
        data.dataset = "subject-federation"
        data.directory = "/nonexistent/federation"
        #expect {
            try FederationData.loadTestSet(data)
        } throws: { ($0 as? RuntimeError)?.message.contains("sextant-audit synth") == true }
    }
}

@Suite struct RecordLevelLedgerTests {
    func configuration() throws -> FederationConfiguration {
        try decodeConfiguration(
            """
            clients: {count: 2}
            privacy: {mode: record-level, delta: 1.0e-5, record_level: {clip_norm: 1.0, noise_multiplier: 1.1, batch_size: 50}}
            """)
    }

    @Test func theLargestClientEpsilonIsTheAccountantsOwn() throws {
        var ledger = RecordLevelLedger(federation: try configuration())
        #expect(ledger.epsilon() == nil)
        ledger.record(client: "a", steps: 100, samples: 5000)
        ledger.record(client: "a", steps: 100, samples: 5000)
        ledger.record(client: "b", steps: 100, samples: 1000)
        let a = try RDPAccountant.epsilon(noiseMultiplier: 1.1, sampleRate: 50.0 / 5000, steps: 200, delta: 1e-5)
            .epsilon
        let b = try RDPAccountant.epsilon(noiseMultiplier: 1.1, sampleRate: 50.0 / 1000, steps: 100, delta: 1e-5)
            .epsilon
        let epsilon = try #require(ledger.epsilon())
        #expect(abs(epsilon - max(a, b)) < 1e-12)
    }
}
