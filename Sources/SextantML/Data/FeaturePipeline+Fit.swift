import Foundation

extension FeaturePipeline {
    /// The pipeline the federation agrees on, from every site's statistics merged
    /// (``SiteStatistics/merged(_:)``): numeric columns scaled as `options.scaling` says
    /// (standardisation with the population standard deviation over all sites; a column of
    /// one value gets scale 1), categorical vocabularies sorted, missing values imputed from
    /// the merged statistics as `options.missing` says, classes sorted (numerically when
    /// every class is a number), regression targets standardised (unless `options.scaling` is
    /// none) and mapped back wherever a prediction leaves the model.
    package static func fit(
        statistics: SiteStatistics, options: SiteDataOptions, task: TaskSpec.Kind
    ) throws -> FeaturePipeline {
        func fail(_ message: String) -> SextantMLError { SextantMLError(code: .invalidArgument, message) }
        var columns: [Column] = []
        for column in statistics.columns {
            if let numeric = column.numeric {
                guard numeric.count > 0 else {
                    throw fail("column '\(column.name)' has no values at any site (all \(numeric.missing) missing)")
                }
                columns.append(
                    Column(
                        name: column.name,
                        kind: .numeric(
                            NumericColumn(
                                transform: transform(numeric, options.scaling),
                                imputation: options.missing == .mean ? Float(numeric.mean) : nil))))
            } else if let categories = column.categories {
                guard !categories.counts.isEmpty else {
                    throw fail("column '\(column.name)' has no values at any site (all \(categories.missing) missing)")
                }
                let vocabulary = categories.counts.keys.sorted()
                let mostFrequent = vocabulary.max { categories.counts[$0]! < categories.counts[$1]! }
                columns.append(
                    Column(
                        name: column.name,
                        kind: .categorical(
                            CategoricalColumn(
                                vocabulary: vocabulary,
                                imputation: options.missing == .refuse ? nil : mostFrequent))))
            }
        }
        let classes: [String]
        var targetTransform: NumericTransform?
        switch task {
        case .classification, .binary:
            guard let counts = statistics.label.classCounts else {
                throw fail("the label '\(statistics.label.name)' holds numbers, but the task is \(task.rawValue)")
            }
            classes = sortedClasses(Array(counts.keys))
        case .regression:
            guard let values = statistics.label.values else {
                throw fail("the label '\(statistics.label.name)' holds classes, but the task is regression")
            }
            classes = []
            // Targets in their raw units (a disease score of 25-346) make the squared loss's
            // gradients hundreds of times larger than the features' and the learning rate
            // unportable between tasks; standardised targets train like any other.
            targetTransform = transform(values, options.scaling == .none ? .none : .standardize)
        }
        return FeaturePipeline(
            columns: columns, ignored: options.ignore, ignoresOtherColumns: options.features != nil ? true : nil,
            target: Target(name: statistics.label.name, classes: classes, transform: targetTransform),
            arrayShape: statistics.arrayShape,
            arrayScaling: statistics.arrayShape == nil ? [] : statistics.channels.map { transform($0, options.scaling) }
        )
    }

    /// Class names in numeric order when all are numbers, else in code-point order.
    static func sortedClasses(_ names: [String]) -> [String] {
        let numbers = names.map { Double($0.trimmingCharacters(in: .whitespaces)) }
        if numbers.allSatisfy({ $0 != nil }) {
            return zip(names, numbers).sorted { ($0.1!, $0.0) < ($1.1!, $1.0) }.map(\.0)
        }
        return names.sorted()
    }

    static func transform(_ statistics: NumericStatistics, _ scaling: NumericTransform.Scaling) -> NumericTransform {
        switch scaling {
        case .none:
            return .identity
        case .standardize:
            // A column of one value (max == min) has zero variance, whatever rounding says.
            let deviation = statistics.max > statistics.min ? statistics.variance.squareRoot() : 0
            return NumericTransform(
                scaling: .standardize, shift: Float(statistics.mean), scale: deviation > 0 ? Float(1 / deviation) : 1)
        case .minmax:
            let range = statistics.max - statistics.min
            return NumericTransform(
                scaling: .minmax, shift: Float(statistics.min), scale: range > 0 ? Float(1 / range) : 1)
        }
    }
}
