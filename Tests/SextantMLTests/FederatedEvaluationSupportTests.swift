import Foundation
import Testing

@testable import SextantML

/// What federated evaluation needs from the numeric core: metric summaries that are checked
/// before a server merges another party's.
@Suite struct FederatedEvaluationSupportTests {
    static func dataset(count: Int) -> Dataset {
        Dataset(
            shape: FeatureShape(channels: 2), classCount: 3, features: (0..<(2 * count)).map(Float.init),
            labels: (0..<count).map { Int32($0 % 3) })
    }

    @Test("regression data has no class histogram (a client's join once trapped on it)")
    func regressionHasNoHistogram() {
        let data = Dataset(shape: FeatureShape(channels: 2), features: [1, 2, 3, 4], targets: [0.5, 7])
        #expect(data.classHistogram() == [])
        #expect(Self.dataset(count: 6).classHistogram() == [2, 2, 2])
    }

    @Test("a summary of the task's shape and the claimed record count passes")
    func soundSummaries() throws {
        let matrix = ConfusionMatrix(classes: 3, truth: [0, 1, 2, 2], predicted: [0, 2, 2, 1])
        try MetricSummary.classification(matrix).validate(for: .classification(classes: 3), records: 4)
        var binary = MetricSummary(task: .binary(positiveWeight: 1))
        let outputs: [Float] = [2, -1]
        let labels: [Int32] = [1, 0]
        outputs.withUnsafeBufferPointer { o in
            labels.withUnsafeBufferPointer { l in
                binary.add(outputs: o.baseAddress!, targets: .labels(l.baseAddress!), batchSize: 2)
            }
        }
        try binary.validate(for: .binary(positiveWeight: 3), records: 2)
        // Through JSON, as it travels.
        let decoded = try JSONDecoder().decode(MetricSummary.self, from: JSONEncoder().encode(binary))
        try decoded.validate(for: .binary(positiveWeight: 1), records: 2)
    }

    @Test(
        "forged summaries are refused before they can trap a merge",
        arguments: [
            // Another class count than the task's.
            #"{"classification":{"_0":{"classes":2,"counts":[1,0,0,1]}}}"#,
            // A matrix whose counts do not fill classes x classes.
            #"{"classification":{"_0":{"classes":3,"counts":[1,0]}}}"#,
            // A negative count.
            #"{"classification":{"_0":{"classes":3,"counts":[5,0,0,0,-3,0,0,0,0]}}}"#,
            // Counts that do not add up to the records claimed (2).
            #"{"classification":{"_0":{"classes":3,"counts":[1,0,0,0,0,0,0,0,0]}}}"#,
            // Another task altogether.
            #"{"regression":{"_0":{"outputs":1,"count":2,"absoluteErrors":[1],"squaredErrors":[1],"targetMeans":[0],"targetDeviations":[0]}}}"#,
        ])
    func forgedSummaries(json: String) throws {
        guard let summary = try? JSONDecoder().decode(MetricSummary.self, from: Data(json.utf8)) else {
            return  // Refused by the decoder already: also fine.
        }
        #expect(throws: MetricSummaryError.self) {
            try summary.validate(for: .classification(classes: 3), records: 2)
        }
    }
}
