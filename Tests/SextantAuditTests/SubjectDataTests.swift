import Foundation
import SextantML
import SextantTestSupport
import Testing

@testable import SextantAudit

@Suite("Subject federations and their files")
struct SubjectDataTests {
    func generator(seed: UInt64 = 5) -> SubjectFederationGenerator {
        var configuration = SubjectFederationGenerator.Configuration()
        configuration.subjects = 20
        configuration.clients = 3
        configuration.recordsPerSubject = 9
        configuration.auditSamplesPerSubject = 4
        configuration.silosPerSubject = 2
        configuration.seed = seed
        return SubjectFederationGenerator(configuration: configuration)
    }

    @Test func membersAreSpreadOverSilosAndNonMembersAreAbsent() throws {
        var tabular = SubjectFederationGenerator.Tabular()
        tabular.features = 6
        tabular.classCount = 3
        let federation = try generator().makeTabular(tabular)
        let truth = federation.groundTruth
        #expect(federation.membership.values.filter { $0 }.count == 10)
        let trained = Set(federation.clients.flatMap { $0.subjects! })
        for subject in truth.subjects {
            #expect(trained.contains(subject.id) == subject.member)
            #expect(subject.auditSamples == 4)
            if subject.member {
                #expect(subject.silos.count == 2)
                #expect(subject.trainingRecords == 9)
            } else {
                #expect(subject.silos.isEmpty && subject.trainingRecords == 0)
            }
        }
        #expect(federation.clients.allSatisfy { $0.count > 0 })
        #expect(federation.auditSet.count == 80)
        // Deterministic for a seed.
        let again = try generator().makeTabular(tabular)
        #expect(again.auditSet.features == federation.auditSet.features)
        #expect(again.clients.map(\.labels) == federation.clients.map(\.labels))
    }

    @Test func filesRoundTrip() throws {
        var tabular = SubjectFederationGenerator.Tabular()
        tabular.features = 5
        let federation = try generator().makeTabular(tabular)
        let directory = try TemporaryDirectory(prefix: "sextant-audit-tests")
        let truth = try federation.write(to: directory.url)
        let readTruth = try SubjectGroundTruth.read(from: directory.url(for: "ground-truth.json"))
        #expect(readTruth == truth)
        let audit = try DatasetFile.read(from: directory.url(for: truth.auditSet))
        #expect(audit.subjects == federation.auditSet.subjects)
        #expect(audit.labels == federation.auditSet.labels)
        #expect(zip(audit.features, federation.auditSet.features).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) })
        let client = try DatasetFile.read(from: directory.url(for: truth.clients[1].file))
        #expect(client.subjects == federation.clients[1].subjects)

        // The binary format is exact and rejects damage.
        let binary = directory.url(for: "audit.sxd")
        try DatasetFile.write(federation.auditSet, to: binary)
        let decoded = try DatasetFile.read(from: binary)
        #expect(decoded.features == federation.auditSet.features)
        #expect(decoded.subjects == federation.auditSet.subjects)
        #expect(decoded.shape == federation.auditSet.shape)
        var bytes = DatasetFile.binary(federation.auditSet)
        #expect(throws: AuditError.self) { try DatasetFile.decode(bytes.dropLast(3)) }
        bytes[0] = 0
        #expect(throws: AuditError.self) { try DatasetFile.decode(bytes) }
    }

    @Test func fashionOverlayGivesEachSubjectItsStyle() throws {
        // Synthetic 1x8x8 "images" stand in for Fashion-MNIST.
        func images(_ count: Int, seed: UInt64) -> Dataset {
            var generator = SeededGenerator(seed: seed)
            return Dataset(
                shape: FeatureShape(channels: 1, height: 8, width: 8), classCount: 10,
                features: (0..<(count * 64)).map { _ in Float(generator.nextNormal()) },
                labels: (0..<count).map { Int32($0 % 10) })
        }
        let federation = try generator().makeFashionMNIST(train: images(400, seed: 1), test: images(200, seed: 2))
        #expect(federation.kind == "fashion-mnist")
        #expect(federation.auditSet.count == 80)
        #expect(federation.clients.reduce(0) { $0 + $1.count } == 90)
        let normalization = FashionMNIST.normalization
        let low = (0 - normalization.mean) / normalization.standardDeviation
        let high = (1 - normalization.mean) / normalization.standardDeviation
        #expect(federation.auditSet.features.allSatisfy { $0 >= low - 1e-5 && $0 <= high + 1e-5 })
        #expect(throws: AuditError.self) {
            try generator().makeFashionMNIST(train: images(50, seed: 1), test: images(200, seed: 2))
        }
    }
}
