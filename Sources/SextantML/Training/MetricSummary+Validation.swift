/// A summary that arrived from another party is a claim: its shape must be the task's, its
/// counts non-negative and its sums finite, before it is merged or read.
package struct MetricSummaryError: Error, Hashable, Sendable, CustomStringConvertible {
    package var description: String

    package init(_ description: String) { self.description = description }
}

extension MetricSummary {
    /// The records the summary counts.
    package var recordCount: Int {
        switch self {
        case .classification(let matrix), .binary(let matrix, _): matrix.total
        case .regression(let summary): summary.count
        }
    }

    /// Checks a received summary against `task` and the number of records it claims to
    /// count; merging or reading it afterwards cannot trap or overflow for counts up to
    /// `maxRecords`.
    package func validate(for task: LearningTask, records: Int, maxRecords: Int = 1 << 40) throws(MetricSummaryError) {
        guard records >= 0, records <= maxRecords else {
            throw MetricSummaryError("\(records) records is outside 0...\(maxRecords)")
        }
        func checkCounts(_ counts: [Int], _ name: String) throws(MetricSummaryError) {
            var total = 0
            for count in counts {
                guard count >= 0, count <= maxRecords else {
                    throw MetricSummaryError("\(name) holds a count of \(count)")
                }
                total += count
                guard total <= maxRecords else { throw MetricSummaryError("\(name) counts more than \(maxRecords)") }
            }
        }
        switch (self, task) {
        case (.classification(let matrix), .classification(let classes)):
            guard matrix.classes == classes, matrix.counts.count == classes * classes else {
                throw MetricSummaryError("a confusion matrix of \(matrix.classes) classes, the task has \(classes)")
            }
            try checkCounts(matrix.counts, "the confusion matrix")
        case (.binary(let matrix, let histogram), .binary):
            guard matrix.classes == 2, matrix.counts.count == 4 else {
                throw MetricSummaryError("a binary task's confusion matrix must be 2x2")
            }
            try checkCounts(matrix.counts, "the confusion matrix")
            let reference = ScoreHistogram()
            guard histogram.lower == reference.lower, histogram.upper == reference.upper,
                histogram.positives.count == reference.bins, histogram.negatives.count == reference.bins
            else { throw MetricSummaryError("the score histogram's bins are not the agreed ones") }
            try checkCounts(histogram.positives + histogram.negatives, "the score histogram")
            guard histogram.positives.reduce(0, +) + histogram.negatives.reduce(0, +) == matrix.total else {
                throw MetricSummaryError("the score histogram and the confusion matrix count different records")
            }
        case (.regression(let summary), .regression(let outputs, _)):
            guard summary.outputs == outputs,
                [summary.absoluteErrors, summary.squaredErrors, summary.targetMeans, summary.targetDeviations]
                    .allSatisfy({ $0.count == outputs })
            else {
                throw MetricSummaryError("a regression summary of \(summary.outputs) outputs, the task has \(outputs)")
            }
            guard summary.count >= 0, summary.count <= maxRecords else {
                throw MetricSummaryError("the regression summary counts \(summary.count) records")
            }
            let sums = summary.absoluteErrors + summary.squaredErrors + summary.targetMeans + summary.targetDeviations
            guard sums.allSatisfy(\.isFinite),
                (summary.absoluteErrors + summary.squaredErrors + summary.targetDeviations).allSatisfy({ $0 >= 0 })
            else { throw MetricSummaryError("the regression summary holds a negative or non-finite sum") }
        default:
            throw MetricSummaryError("the summary is of another task than \(task)")
        }
        guard recordCount == records else {
            throw MetricSummaryError("the summary counts \(recordCount) records, the message claims \(records)")
        }
    }
}
