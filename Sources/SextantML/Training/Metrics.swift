import Foundation

// Evaluation metrics as mergeable summaries: each site evaluates its own records into a
// summary of counts and sums, the summaries are added (`merge`), and the metrics are read
// off the sum, so a federation combines sites' evaluations without moving a record. Every
// summary here merges exactly: the merged summary is the one of the pooled records (up to
// the rounding of Double sums for regression).

/// Counts of (true class, predicted class) pairs; row = truth, column = prediction.
package struct ConfusionMatrix: Hashable, Sendable, Codable {
    package let classes: Int
    /// `classes x classes`, row-major: `counts[truth * classes + predicted]`.
    package private(set) var counts: [Int]

    package init(classes: Int) {
        precondition(classes >= 1, "a confusion matrix needs a class")
        self.classes = classes
        counts = [Int](repeating: 0, count: classes * classes)
    }

    /// A matrix of the pairs `zip(truth, predicted)`.
    package init(classes: Int, truth: [Int], predicted: [Int]) {
        self.init(classes: classes)
        for (t, p) in zip(truth, predicted) { add(truth: t, predicted: p) }
    }

    package mutating func add(truth: Int, predicted: Int) {
        counts[truth * classes + predicted] += 1
    }

    package subscript(truth: Int, predicted: Int) -> Int { counts[truth * classes + predicted] }

    /// Adds another site's counts.
    package mutating func merge(_ other: ConfusionMatrix) {
        precondition(other.classes == classes, "confusion matrices of \(classes) and \(other.classes) classes")
        for i in counts.indices { counts[i] += other.counts[i] }
    }

    package var total: Int { counts.reduce(0, +) }
    private func support(_ c: Int) -> Int { (0..<classes).reduce(0) { $0 + self[c, $1] } }
    private func predictedCount(_ c: Int) -> Int { (0..<classes).reduce(0) { $0 + self[$1, c] } }

    /// Correct predictions over all predictions (0 when empty).
    package var accuracy: Double {
        let n = total
        return n == 0 ? 0 : Double((0..<classes).reduce(0) { $0 + self[$1, $1] }) / Double(n)
    }

    /// The mean recall over the classes that occur in the truth (scikit-learn's
    /// `balanced_accuracy_score`); a class absent from the truth has no recall and is skipped.
    package var balancedAccuracy: Double {
        let present = (0..<classes).filter { support($0) > 0 }
        guard !present.isEmpty else { return 0 }
        return present.reduce(0.0) { $0 + Double(self[$1, $1]) / Double(support($1)) } / Double(present.count)
    }

    /// The unweighted mean over classes of `F1 = 2 TP / (2 TP + FP + FN)`, over the classes
    /// that occur in the truth or the predictions (a class in neither has no F1 and is skipped;
    /// one in either with no true positive counts as 0).
    package var macroF1: Double {
        var sum = 0.0
        var counted = 0
        for c in 0..<classes {
            let tp = self[c, c]
            let denominator = support(c) + predictedCount(c)
            guard denominator > 0 else { continue }
            sum += 2 * Double(tp) / Double(denominator)
            counted += 1
        }
        return counted == 0 ? 0 : sum / Double(counted)
    }
}

/// ROC AUC, exactly, as the Mann-Whitney statistic: the probability that a random positive
/// scores above a random negative, ties counting one half. Sorting makes it O(n log n).
/// Returns nil when either class is absent.
package func rocAUC(scores: [Float], positive: [Bool]) -> Double? {
    precondition(scores.count == positive.count, "one label per score")
    let order = scores.indices.sorted { scores[$0] < scores[$1] }
    var negativesBelow = 0.0
    var wins = 0.0
    var (positives, negatives) = (0, 0)
    var start = 0
    while start < order.count {
        var end = start
        var (tiedPositives, tiedNegatives) = (0, 0)
        while end < order.count && scores[order[end]] == scores[order[start]] {
            if positive[order[end]] { tiedPositives += 1 } else { tiedNegatives += 1 }
            end += 1
        }
        wins += Double(tiedPositives) * (negativesBelow + 0.5 * Double(tiedNegatives))
        negativesBelow += Double(tiedNegatives)
        positives += tiedPositives
        negatives += tiedNegatives
        start = end
    }
    guard positives > 0 && negatives > 0 else { return nil }
    return wins / (Double(positives) * Double(negatives))
}

/// Per-class histograms of binary scores (logits) over fixed bins, the mergeable summary of
/// ROC AUC: sites add their histograms bin by bin, and the AUC of the merged histogram is the
/// Mann-Whitney statistic of the pooled scores rounded to their bins (two scores in one bin
/// count as a tie). It is therefore exactly the centralised *binned* AUC; against the exact AUC
/// of the raw scores it is off by at most ``maximumBinningError``, half the share of
/// (positive, negative) pairs that share a bin. The default 4096 bins over logits in
/// [-16, 16] are 1/128 of a logit wide; logits outside go to the end bins.
package struct ScoreHistogram: Hashable, Sendable, Codable {
    package let lower: Float
    package let upper: Float
    package private(set) var positives: [Int]
    package private(set) var negatives: [Int]

    package init(bins: Int = 4096, lower: Float = -16, upper: Float = 16) {
        precondition(bins > 0 && upper > lower, "a histogram needs bins over a range")
        self.lower = lower
        self.upper = upper
        positives = [Int](repeating: 0, count: bins)
        negatives = positives
    }

    package var bins: Int { positives.count }

    @inline(__always)
    func bin(of score: Float) -> Int {
        let position = (score - lower) / (upper - lower) * Float(bins)
        guard position.isFinite else { return score > 0 ? bins - 1 : 0 }
        return min(max(Int(position.rounded(.down)), 0), bins - 1)
    }

    package mutating func add(score: Float, positive: Bool) {
        if positive { positives[bin(of: score)] += 1 } else { negatives[bin(of: score)] += 1 }
    }

    package mutating func merge(_ other: ScoreHistogram) {
        precondition(other.bins == bins && other.lower == lower && other.upper == upper, "histograms of different bins")
        for i in positives.indices {
            positives[i] += other.positives[i]
            negatives[i] += other.negatives[i]
        }
    }

    /// The Mann-Whitney AUC of the binned scores; nil when either class is absent.
    package var auc: Double? {
        let (p, n) = (positives.reduce(0, +), negatives.reduce(0, +))
        guard p > 0 && n > 0 else { return nil }
        var negativesBelow = 0.0
        var wins = 0.0
        for b in 0..<bins {
            wins += Double(positives[b]) * (negativesBelow + 0.5 * Double(negatives[b]))
            negativesBelow += Double(negatives[b])
        }
        return wins / (Double(p) * Double(n))
    }

    /// An upper bound on |binned AUC - exact AUC|: pairs within one bin count 1/2 here and
    /// 0, 1/2 or 1 exactly.
    package var maximumBinningError: Double {
        let (p, n) = (positives.reduce(0, +), negatives.reduce(0, +))
        guard p > 0 && n > 0 else { return 0 }
        let shared = zip(positives, negatives).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        return 0.5 * shared / (Double(p) * Double(n))
    }
}

/// Sums of a regression evaluation, per output: the number of examples, the sums of absolute
/// and squared errors, and the targets' mean and sum of squared deviations (merged with Chan
/// et al.'s pairwise update, which stays accurate where `Σy² - (Σy)²/n` cancels).
package struct RegressionSummary: Hashable, Sendable, Codable {
    package let outputs: Int
    package private(set) var count = 0
    package private(set) var absoluteErrors: [Double]
    package private(set) var squaredErrors: [Double]
    package private(set) var targetMeans: [Double]
    package private(set) var targetDeviations: [Double]

    package init(outputs: Int) {
        precondition(outputs > 0, "a regression has at least one output")
        self.outputs = outputs
        absoluteErrors = [Double](repeating: 0, count: outputs)
        squaredErrors = absoluteErrors
        targetMeans = absoluteErrors
        targetDeviations = absoluteErrors
    }

    /// A summary of `predictions` against `targets` (`count x outputs` each, row-major).
    package init(outputs: Int, predictions: [Float], targets: [Float]) {
        self.init(outputs: outputs)
        predictions.withUnsafeBufferPointer { p in
            targets.withUnsafeBufferPointer { t in add(p.baseAddress!, t.baseAddress!, count: targets.count / outputs) }
        }
    }

    /// Adds `count` examples.
    package mutating func add(_ predictions: UnsafePointer<Float>, _ targets: UnsafePointer<Float>, count rows: Int) {
        for row in 0..<rows {
            count += 1
            for j in 0..<outputs {
                let (y, e) = (
                    Double(targets[row * outputs + j]),
                    Double(predictions[row * outputs + j] - targets[row * outputs + j])
                )
                absoluteErrors[j] += abs(e)
                squaredErrors[j] += e * e
                let delta = y - targetMeans[j]
                targetMeans[j] += delta / Double(count)
                targetDeviations[j] += delta * (y - targetMeans[j])
            }
        }
    }

    package mutating func merge(_ other: RegressionSummary) {
        precondition(other.outputs == outputs, "regression summaries of \(outputs) and \(other.outputs) outputs")
        let (n, m) = (Double(count), Double(other.count))
        guard other.count > 0 else { return }
        for j in 0..<outputs {
            let delta = other.targetMeans[j] - targetMeans[j]
            targetDeviations[j] += other.targetDeviations[j] + delta * delta * n * m / (n + m)
            targetMeans[j] += delta * m / (n + m)
            absoluteErrors[j] += other.absoluteErrors[j]
            squaredErrors[j] += other.squaredErrors[j]
        }
        count += other.count
    }

    private var values: Double { Double(count * outputs) }
    /// Mean absolute error over every output of every example.
    package var meanAbsoluteError: Double { count == 0 ? 0 : absoluteErrors.reduce(0, +) / values }
    /// Root mean squared error over every output of every example.
    package var rootMeanSquaredError: Double { count == 0 ? 0 : (squaredErrors.reduce(0, +) / values).squareRoot() }
    /// `1 - SSE / SST` per output, averaged over the outputs (scikit-learn's `r2_score` with
    /// `uniform_average`); nil when a target is constant (SST = 0) or there are no examples.
    package var rSquared: Double? {
        guard count > 0, targetDeviations.allSatisfy({ $0 > 0 }) else { return nil }
        return (0..<outputs).reduce(0.0) { $0 + 1 - squaredErrors[$1] / targetDeviations[$1] } / Double(outputs)
    }
}

/// The mergeable evaluation of one task: what each site sends, what the federation adds up.
package enum MetricSummary: Hashable, Sendable, Codable {
    case classification(ConfusionMatrix)
    /// The confusion matrix at logit 0 (probability 1/2) and the score histograms.
    case binary(ConfusionMatrix, ScoreHistogram)
    case regression(RegressionSummary)

    /// An empty summary for `task`.
    package init(task: LearningTask) {
        switch task {
        case .classification(let classes): self = .classification(ConfusionMatrix(classes: classes))
        case .binary: self = .binary(ConfusionMatrix(classes: 2), ScoreHistogram())
        case .regression(let outputs, _): self = .regression(RegressionSummary(outputs: outputs))
        }
    }

    /// Adds a batch of network outputs and their targets.
    package mutating func add(outputs: UnsafePointer<Float>, targets: BatchTargets, batchSize: Int) {
        switch (self, targets) {
        case (.classification(var matrix), .labels(let labels)):
            let classes = matrix.classes
            for row in 0..<batchSize {
                let z = outputs + row * classes
                var best = 0
                for j in 1..<classes where z[j] > z[best] { best = j }
                matrix.add(truth: Int(labels[row]), predicted: best)
            }
            self = .classification(matrix)
        case (.binary(var matrix, var histogram), .labels(let labels)):
            for row in 0..<batchSize {
                matrix.add(truth: Int(labels[row]), predicted: outputs[row] > 0 ? 1 : 0)
                histogram.add(score: outputs[row], positive: labels[row] == 1)
            }
            self = .binary(matrix, histogram)
        case (.regression(var summary), .values(let values)):
            summary.add(outputs, values, count: batchSize)
            self = .regression(summary)
        default:
            preconditionFailure("targets of the wrong kind for this summary")
        }
    }

    /// Adds another site's summary of the same task.
    package mutating func merge(_ other: MetricSummary) {
        switch (self, other) {
        case (.classification(var a), .classification(let b)):
            a.merge(b)
            self = .classification(a)
        case (.binary(var a, var h), .binary(let b, let g)):
            a.merge(b)
            h.merge(g)
            self = .binary(a, h)
        case (.regression(var a), .regression(let b)):
            a.merge(b)
            self = .regression(a)
        default:
            preconditionFailure("summaries of different tasks")
        }
    }

    /// The task's metrics by name (`accuracy`, `balanced_accuracy`, `macro_f1`, `roc_auc`,
    /// `mae`, `rmse`, `r2`); a metric that is undefined on these records is left out.
    package var metrics: [String: Double] {
        switch self {
        case .classification(let m), .binary(let m, _):
            var values = ["accuracy": m.accuracy, "balanced_accuracy": m.balancedAccuracy, "macro_f1": m.macroF1]
            if case .binary(_, let histogram) = self, let auc = histogram.auc { values["roc_auc"] = auc }
            return values
        case .regression(let s):
            var values = ["mae": s.meanAbsoluteError, "rmse": s.rootMeanSquaredError]
            if let r2 = s.rSquared { values["r2"] = r2 }
            return values
        }
    }
}
