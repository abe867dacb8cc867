/// Labelled examples in memory: `count x shape` features, row-major, one label each and,
/// where the data has one, the id of the subject (person) each record belongs to.
package struct Dataset: Sendable {
    package var shape: FeatureShape
    package var classCount: Int
    package var features: [Float]
    package var labels: [Int32]
    package var subjects: [Int32]?
    /// Real-valued targets of a regression task: `count x targetWidth` values, row-major; nil
    /// for labelled data. Regression data keeps `labels` (all 0) so that every record has one.
    package var targets: [Float]?
    /// How ``targets`` were scaled from the raw values (the agreed pipeline's
    /// ``FeaturePipeline/Target/transform``); nil: they are the raw values. Metrics invert it
    /// so that they are reported in the target's own units.
    package var targetTransform: FeaturePipeline.NumericTransform?

    package init(
        shape: FeatureShape, classCount: Int, features: [Float], labels: [Int32], subjects: [Int32]? = nil,
        targets: [Float]? = nil
    ) {
        precondition(features.count == labels.count * shape.count, "features do not match labels and shape")
        precondition(subjects == nil || subjects!.count == labels.count, "one subject id per record")
        precondition(
            targets == nil || (!labels.isEmpty && targets!.count % labels.count == 0),
            "the same number of targets per record")
        self.targets = targets
        self.shape = shape
        self.classCount = classCount
        self.features = features
        self.labels = labels
        self.subjects = subjects
    }

    package var count: Int { labels.count }

    /// Regression data: `count` records of `shape` features and `targets.count / count` targets each.
    package init(shape: FeatureShape, features: [Float], targets: [Float], subjects: [Int32]? = nil) {
        let count = shape.count == 0 ? 0 : features.count / shape.count
        self.init(
            shape: shape, classCount: 0, features: features, labels: [Int32](repeating: 0, count: count),
            subjects: subjects,
            targets: targets)
    }

    /// Targets per record (0 without targets).
    package var targetWidth: Int { targets.map { count == 0 ? 0 : $0.count / count } ?? 0 }

    /// The examples at `indices`, in that order.
    package func subset(_ indices: some Collection<Int>) -> Dataset {
        let width = shape.count
        var selected = [Float]()
        selected.reserveCapacity(indices.count * width)
        features.withUnsafeBufferPointer { all in
            for index in indices {
                selected.append(contentsOf: all[(index * width)..<((index + 1) * width)])
            }
        }
        var subset = Dataset(
            shape: shape, classCount: classCount, features: selected,
            labels: indices.map { labels[$0] }, subjects: subjects.map { s in indices.map { s[$0] } },
            targets: targets.map { t in
                let width = targetWidth
                return indices.flatMap { t[($0 * width)..<(($0 + 1) * width)] }
            })
        subset.targetTransform = targetTransform
        return subset
    }

    /// The first `count` examples (or all of them), for quick runs and tests.
    package func prefix(_ count: Int) -> Dataset {
        subset(0..<min(count, self.count))
    }

    /// How many examples of each class there are (empty for regression data, which has no classes).
    package func classHistogram() -> [Int] {
        guard targets == nil, classCount > 0 else { return [] }
        var histogram = [Int](repeating: 0, count: classCount)
        for label in labels where label >= 0 && Int(label) < classCount { histogram[Int(label)] += 1 }
        return histogram
    }
}
