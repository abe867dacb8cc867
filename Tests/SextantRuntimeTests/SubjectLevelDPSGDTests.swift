import Foundation
import SextantML
import SextantPrivacy
import Testing

@testable import SextantClient
@testable import SextantRuntime

/// Subject-level DP-SGD (``PrivacyUnit/subject``): one clipped contribution per sampled
/// subject, whatever its record count, so removing a subject moves the noised sum by at
/// most C. The expected values come from the hand gradient of logistic regression
/// (``PrivateTrainerTests/handGradient(parameters:x:label:classes:)``), not from the network.
@Suite struct SubjectLevelDPSGDTests {
    static let subjects: [Int32] = [0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 3, 3]

    static func data() -> Dataset {
        var data = PrivateTrainerTests.problem.makeDataset(count: subjects.count)
        data.subjects = subjects
        return data
    }

    /// The noised sum one step released: with SGD at learning rate 1 the step is
    /// `-(Σ clip + noise) / (q n_s)`, so the sum is `-(after - start) q n_s`.
    static func releasedSum(data: Dataset, start: [Float], clipNorm: Double, seed: UInt64) throws -> [Double] {
        let network = ModelArchitecture.logreg.makeNetwork(input: data.shape, classCount: 3, seed: 5)
        network.loadParameters(start)
        var trainer = try PrivateTrainer(
            network: network, dataset: data, optimizer: SGD(learningRate: 1), clipNorm: clipNorm, noiseMultiplier: 0.8,
            sampling: .subjects(sampleRate: 1), generator: SeededGenerator(seed: seed))
        #expect(trainer.unit == .subject)
        trainer.train(steps: 1)
        let subjects = Double(Set(data.subjects!).count)
        #expect(trainer.expectedBatchSize == subjects)
        return zip(network.parameterVector(), start).map { -Double($0 - $1) * subjects }
    }

    /// Removing subject 0 (5 records) or subject 1 (2 records), with the same noise draw (q =
    /// 1 draws no sample, so the seeded generator gives both runs the same noise): the sums
    /// differ by exactly the subject's clipped mean gradient, whose norm is at most C.
    /// Tolerance 1e-4: Float sums of a dozen terms of size about 1.
    @Test(arguments: [(Int32(0), 0.3), (Int32(1), 0.3), (Int32(0), 50.0)])
    func removingASubjectMovesTheNoisedSumByItsClippedContribution(subject: Int32, clipNorm: Double) throws {
        let data = Self.data()
        let start = ModelArchitecture.logreg.makeNetwork(input: data.shape, classCount: 3, seed: 5).parameterVector()
        let kept = data.subjects!.indices.filter { data.subjects![$0] != subject }
        let with = try Self.releasedSum(data: data, start: start, clipNorm: clipNorm, seed: 7)
        let without = try Self.releasedSum(data: data.subset(kept), start: start, clipNorm: clipNorm, seed: 7)

        let records = data.subjects!.indices.filter { data.subjects![$0] == subject }
        var mean = [Double](repeating: 0, count: start.count)
        for index in records {
            let x = data.features[(index * 6)..<((index + 1) * 6)]
            let g = PrivateTrainerTests.handGradient(
                parameters: start, x: x, label: Int(data.labels[index]), classes: 3)
            for i in mean.indices { mean[i] += g[i] / Double(records.count) }
        }
        let norm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let expected = mean.map { $0 * min(1, clipNorm / norm) }
        let moved = zip(with, without).map { $0 - $1 }
        for (a, b) in zip(moved, expected) { #expect(abs(a - b) < 1e-4, "moved \(a), expected \(b)") }
        let movedNorm = moved.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(movedNorm <= clipNorm + 1e-4)
        if clipNorm < norm { #expect(abs(movedNorm - clipNorm) < 1e-4) }
    }

    /// Every subject is one contribution: at q = 1 the step sees 4 subjects and 12 records.
    @Test func aStepCountsSubjectsAsContributions() throws {
        let data = Self.data()
        let network = ModelArchitecture.logreg.makeNetwork(input: data.shape, classCount: 3, seed: 5)
        var trainer = try PrivateTrainer(
            network: network, dataset: data, optimizer: SGD(learningRate: 0.1), clipNorm: 1, noiseMultiplier: 1,
            sampling: .subjects(sampleRate: 1), generator: SeededGenerator(seed: 3))
        let progress = trainer.train(steps: 2)
        #expect(progress.examples == 24)
        #expect(trainer.sampledExamples == 8)
        #expect(trainer.stepsTaken == 2)
    }

    @Test func recordsWithoutSubjectsAreRefused() throws {
        let data = PrivateTrainerTests.problem.makeDataset(count: 10)
        let network = ModelArchitecture.logreg.makeNetwork(input: data.shape, classCount: 3, seed: 5)
        #expect(throws: PrivacyError.self) {
            try PrivateTrainer(
                network: network, dataset: data, optimizer: SGD(learningRate: 0.1), clipNorm: 1, noiseMultiplier: 1,
                sampling: .subjects(sampleRate: 0.5))
        }
    }
}
