import Foundation
import SextantML
import Testing

@Suite("Metrics")
struct MetricTests {
    // Truth and predictions over 3 classes, worked by hand:
    //   truth 0 0 0 0 1 1 2 2 2 2
    //   pred  0 0 1 2 1 0 2 2 2 1
    // Confusion rows (truth) x columns (pred): [2 1 1; 1 1 0; 0 1 3].
    // Accuracy: (2 + 1 + 3) / 10 = 0.6.
    // Recalls: 2/4, 1/2, 3/4 -> balanced accuracy 0.58333.
    // F1 = 2TP / (2TP + FP + FN) = 2TP / (support + predicted):
    //   class 0: 4 / (4 + 3) = 0.571429; class 1: 2 / (2 + 3) = 0.4; class 2: 6 / (4 + 4) = 0.75.
    //   macro F1 = 1.721429 / 3 = 0.573810.
    let truth = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2]
    let predicted = [0, 0, 1, 2, 1, 0, 2, 2, 2, 1]

    @Test func classificationByHand() {
        let m = ConfusionMatrix(classes: 3, truth: truth, predicted: predicted)
        #expect(m.counts == [2, 1, 1, 1, 1, 0, 0, 1, 3])
        #expect(abs(m.accuracy - 0.6) < 1e-12)
        #expect(abs(m.balancedAccuracy - 7.0 / 12) < 1e-12)
        #expect(abs(m.macroF1 - (4.0 / 7 + 0.4 + 0.75) / 3) < 1e-12)
    }

    @Test func classAbsentFromTruthAndPredictions() {
        // Class 2 never occurs: it has no recall and no F1 and is left out of both means.
        let m = ConfusionMatrix(classes: 3, truth: [0, 0, 1, 1], predicted: [0, 1, 1, 1])
        #expect(abs(m.balancedAccuracy - (0.5 + 1) / 2) < 1e-12)
        // F1: class 0: 2 / (2 + 1) = 2/3; class 1: 4 / (2 + 3) = 0.8.
        #expect(abs(m.macroF1 - (2.0 / 3 + 0.8) / 2) < 1e-12)
        #expect(ConfusionMatrix(classes: 2).accuracy == 0)
    }

    @Test func rocAUCByHand() {
        // Positives 0.9, 0.6, 0.4; negatives 0.7, 0.4, 0.1. Pairs won: 0.9 beats 3; 0.6 beats
        // 0.4 and 0.1 (2); 0.4 ties 0.4 (1/2) and beats 0.1 (1). (3 + 2 + 1.5) / 9 = 0.72222.
        let scores: [Float] = [0.9, 0.7, 0.6, 0.4, 0.4, 0.1]
        let positive = [true, false, true, true, false, false]
        #expect(abs(rocAUC(scores: scores, positive: positive)! - 6.5 / 9) < 1e-12)
        // Perfect, reversed, all tied, and one class only.
        #expect(rocAUC(scores: [1, 2], positive: [false, true]) == 1)
        #expect(rocAUC(scores: [1, 2], positive: [true, false]) == 0)
        #expect(rocAUC(scores: [3, 3, 3], positive: [true, false, true]) == 0.5)
        #expect(rocAUC(scores: [1, 2], positive: [true, true]) == nil)
    }

    @Test func histogramAUCBoundsItsError() {
        // Scores far apart land in different bins: the binned AUC is exact.
        var histogram = ScoreHistogram()
        let scores: [Float] = [0.9, 0.7, 0.6, 0.4, 0.4, 0.1].map { ($0 - 0.5) * 10 }
        let positive = [true, false, true, true, false, false]
        for (s, p) in zip(scores, positive) { histogram.add(score: s, positive: p) }
        #expect(abs(histogram.auc! - 6.5 / 9) < 1e-12)
        #expect(abs(histogram.maximumBinningError - 0.5 / 9) < 1e-12)  // only the exact tie shares a bin
        // Two scores inside one bin (width 1/128) count as a tie: AUC 0.5 instead of 1, within the bound.
        var close = ScoreHistogram()
        close.add(score: 0.001, positive: true)
        close.add(score: 0.002, positive: false)
        #expect(close.auc == 0.5)
        #expect(
            abs(close.auc! - rocAUC(scores: [0.001, 0.002], positive: [true, false])!) <= close.maximumBinningError)
        // Logits beyond the range and infinities go to the end bins.
        var extremes = ScoreHistogram()
        extremes.add(score: .infinity, positive: true)
        extremes.add(score: -50, positive: false)
        #expect(extremes.auc == 1)
    }

    @Test func regressionByHand() {
        // Targets 1, 2, 3, 4 (mean 2.5, SST 5); predictions 1.5, 2, 2, 5: errors 0.5, 0, -1, 1.
        // MAE 2.5 / 4 = 0.625; MSE 2.25 / 4 = 0.5625, RMSE 0.75; R² = 1 - 2.25 / 5 = 0.55.
        let s = RegressionSummary(outputs: 1, predictions: [1.5, 2, 2, 5], targets: [1, 2, 3, 4])
        #expect(abs(s.meanAbsoluteError - 0.625) < 1e-12)
        #expect(abs(s.rootMeanSquaredError - 0.75) < 1e-12)
        #expect(abs(s.rSquared! - 0.55) < 1e-12)
        #expect(RegressionSummary(outputs: 1, predictions: [1, 2], targets: [3, 3]).rSquared == nil)
        // Two outputs: R² is the mean of the per-output values. Output 0 as above; output 1
        // perfect (R² 1): mean 0.775.
        let two = RegressionSummary(
            outputs: 2, predictions: [1.5, 10, 2, 20, 2, 30, 5, 40], targets: [1, 10, 2, 20, 3, 30, 4, 40])
        #expect(abs(two.rSquared! - 0.775) < 1e-12)
    }

    // MARK: - Merging

    @Test func mergedSummariesEqualCentralised() {
        var generator = SeededGenerator(seed: 95)
        let n = 300
        // Classification: three sites of unequal size.
        let truth = (0..<n).map { _ in Int.random(in: 0..<4, using: &generator) }
        let predicted = truth.map {
            Double.random(in: 0..<1, using: &generator) < 0.7 ? $0 : Int.random(in: 0..<4, using: &generator)
        }
        let cuts = [0, 40, 190, n]
        var merged = ConfusionMatrix(classes: 4)
        for i in 0..<3 {
            let range = cuts[i]..<cuts[i + 1]
            merged.merge(ConfusionMatrix(classes: 4, truth: Array(truth[range]), predicted: Array(predicted[range])))
        }
        let central = ConfusionMatrix(classes: 4, truth: truth, predicted: predicted)
        #expect(merged == central)
        #expect(merged.macroF1 == central.macroF1)
        // Binary scores: merged histograms are the pooled histogram, bin for bin.
        let labels = (0..<n).map { _ in Bool.random(using: &generator) }
        let scores = labels.map { Float(generator.nextNormal(mean: $0 ? 1 : 0, standardDeviation: 1.5)) }
        var centralHistogram = ScoreHistogram()
        var mergedHistogram = ScoreHistogram()
        for (s, l) in zip(scores, labels) { centralHistogram.add(score: s, positive: l) }
        for i in 0..<3 {
            var site = ScoreHistogram()
            for j in cuts[i]..<cuts[i + 1] { site.add(score: scores[j], positive: labels[j]) }
            mergedHistogram.merge(site)
        }
        #expect(mergedHistogram == centralHistogram)
        let exact = rocAUC(scores: scores, positive: labels)!
        #expect(abs(mergedHistogram.auc! - exact) <= mergedHistogram.maximumBinningError)
        #expect(mergedHistogram.maximumBinningError < 2e-3, "\(mergedHistogram.maximumBinningError)")
        // Regression: sums add, means and deviations merge (Chan): equal up to Double rounding.
        let targets = (0..<(2 * n)).map { _ in Float(generator.nextNormal(mean: 1000, standardDeviation: 3)) }
        let predictions = targets.map { $0 + Float(generator.nextNormal(mean: 0, standardDeviation: 1)) }
        let centralRegression = RegressionSummary(outputs: 2, predictions: predictions, targets: targets)
        var mergedRegression = RegressionSummary(outputs: 2)
        for i in 0..<3 {
            let range = (2 * cuts[i])..<(2 * cuts[i + 1])
            mergedRegression.merge(
                RegressionSummary(outputs: 2, predictions: Array(predictions[range]), targets: Array(targets[range])))
        }
        #expect(mergedRegression.count == centralRegression.count)
        #expect(abs(mergedRegression.meanAbsoluteError - centralRegression.meanAbsoluteError) < 1e-12)
        #expect(abs(mergedRegression.rootMeanSquaredError - centralRegression.rootMeanSquaredError) < 1e-12)
        #expect(abs(mergedRegression.rSquared! - centralRegression.rSquared!) < 1e-9)
    }

    @Test func networkSummariesMergeAcrossSites() throws {
        let spec = ModelSpec(task: TaskSpec(type: .binary), layers: [.linear(out: 4), .relu, .linear(out: nil)])
        let network = try spec.makeNetwork(input: FeatureShape(channels: 3), classCount: 2, seed: 3)
        var generator = SeededGenerator(seed: 96)
        let count = 50
        let data = Dataset(
            shape: FeatureShape(channels: 3), classCount: 2,
            features: (0..<(3 * count)).map { _ in Float.random(in: -2...2, using: &generator) },
            labels: (0..<count).map { _ in Int32.random(in: 0...1, using: &generator) })
        let (centralLoss, central) = network.evaluationSummary(on: data, batchSize: 7)
        var merged = MetricSummary(task: network.task)
        var mergedLoss = 0.0
        for range in [0..<10, 10..<35, 35..<50] {
            let (loss, site) = network.evaluationSummary(on: data.subset(range))
            merged.merge(site)
            mergedLoss += loss
        }
        #expect(merged == central)
        #expect(abs(mergedLoss - centralLoss) < 1e-9)
        let metrics = network.evaluate(on: data).metrics!
        #expect(Set(metrics.keys) == ["accuracy", "balanced_accuracy", "macro_f1", "roc_auc"])
    }
}
