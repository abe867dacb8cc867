/// A site's CSV table: its statistics under the federation's options, and its records
/// through the agreed pipeline. Both passes parse the file's bytes again rather than keep
/// the parsed cells, so memory stays at the file's size.
struct SiteTable: Sendable {
    let parser: CSVParser

    private var name: String { parser.name }

    private func fail(_ problem: String) -> SextantMLError {
        SextantMLError(code: .corruptData, "\(name): \(problem)")
    }

    private func labelIndex(_ label: String) throws -> Int {
        guard let index = parser.header.firstIndex(of: label) else {
            throw fail("no label column '\(label)' in the header (\(SiteStatistics.list(parser.header)))")
        }
        return index
    }

    // MARK: - Statistics

    func statistics(options: SiteDataOptions, task: TaskSpec.Kind) throws -> SiteStatistics {
        let header = parser.header
        let labelIndex = try labelIndex(options.label)
        let featureIndices: [Int]
        if let features = options.features {
            let absent = features.filter { !header.contains($0) }
            guard absent.isEmpty else {
                throw fail(
                    "data.features names \(SiteStatistics.list(absent)), not in the header (\(SiteStatistics.list(header)))"
                )
            }
            featureIndices = header.indices.filter { features.contains(header[$0]) }
        } else {
            featureIndices = header.indices.filter {
                $0 != labelIndex && !options.ignore.contains(header[$0]) && header[$0] != options.subject
            }
        }
        if let subject = options.subject, !header.contains(subject) {
            throw fail("data.subject names '\(subject)', not in the header (\(SiteStatistics.list(header)))")
        }
        let absentCategorical = options.categorical.filter { !header.contains($0) }
        guard absentCategorical.isEmpty else {
            throw fail(
                "data.categorical names \(SiteStatistics.list(absentCategorical)), not in the header (\(SiteStatistics.list(header)))"
            )
        }
        guard !featureIndices.isEmpty else { throw fail("no feature columns besides the label '\(options.label)'") }
        let isCategorical = featureIndices.map { options.categorical.contains(header[$0]) }
        var numeric = [NumericAccumulator](repeating: NumericAccumulator(), count: featureIndices.count)
        var categories = [SiteStatistics.CategoryCounts](repeating: .init(), count: featureIndices.count)
        var classes: [String: Int] = [:]
        var labelValues = NumericAccumulator()
        let classifies = task != .regression
        let records = try parser.forEachRecord { record in
            for (k, column) in featureIndices.enumerated() {
                if isCategorical[k] {
                    if let category = record.category(column) {
                        categories[k].counts[category, default: 0] += 1
                    } else if options.missing == .refuse {
                        throw record.error(Self.refusedMissing, column: column)
                    } else {
                        categories[k].missing += 1
                    }
                    continue
                }
                switch record.number(column) {
                case .value(let value):
                    numeric[k].add(value)
                case .missing:
                    switch options.missing {
                    case .refuse: throw record.error(Self.refusedMissing, column: column)
                    case .mostFrequent: throw record.error(Self.numericMostFrequent, column: column)
                    case .mean: numeric[k].addMissing()
                    }
                case .invalid:
                    throw record.error(Self.notANumber(record.quoted(column)), column: column)
                }
            }
            if classifies {
                guard let label = record.category(labelIndex) else {
                    throw record.error("the label is missing", column: labelIndex)
                }
                classes[label, default: 0] += 1
                guard classes.count <= SiteStatistics.maximumClasses else {
                    throw record.error(
                        "more than \(SiteStatistics.maximumClasses) distinct labels: is this a regression target (model task regression)?",
                        column: labelIndex)
                }
            } else {
                guard case .value(let value) = record.number(labelIndex) else {
                    throw record.error(
                        "the regression target is not a finite number: \(record.quoted(labelIndex))", column: labelIndex
                    )
                }
                labelValues.add(value)
            }
        }
        guard records > 0 else { throw fail("no data rows after the header") }
        let columns = featureIndices.enumerated().map { k, column in
            isCategorical[k]
                ? SiteStatistics.ColumnStatistics(name: header[column], categories: categories[k])
                : SiteStatistics.ColumnStatistics(name: header[column], numeric: numeric[k].result)
        }
        return SiteStatistics(
            recordCount: records, columns: columns,
            label: classifies
                ? .init(name: options.label, classCounts: classes)
                : .init(name: options.label, values: labelValues.result))
    }

    static let refusedMissing = "missing value (data.missing is refuse; mean or most_frequent imputes it)"
    static let numericMostFrequent =
        "missing value in a numeric column: most_frequent imputes categorical columns only (sites share no numeric value counts); use data.missing mean"

    static func notANumber(_ cell: String) -> String {
        "\(cell) is not a number (list the column in data.categorical if it holds categories, or in data.ignore)"
    }

    // MARK: - Records

    /// The records through `pipeline`; with `subject`, each record's subject is the cell of
    /// that column, numbered in order of first appearance (ids local to this site).
    func dataset(pipeline: FeaturePipeline, subject: String? = nil) throws -> Dataset {
        let header = parser.header
        let subjectIndex = try subject.map { name in
            guard let index = header.firstIndex(of: name) else {
                throw fail("data.subject names '\(name)', not in the header (\(SiteStatistics.list(header)))")
            }
            return index
        }
        var subjectIDs: [String: Int32] = [:]
        var subjects: [Int32] = []
        let labelIndex = try labelIndex(pipeline.target.name)
        let expected = pipeline.columns.map(\.name)
        let absent = expected.filter { !header.contains($0) }
        let extra =
            pipeline.ignoresOtherColumns == true
            ? []
            : header.filter {
                $0 != pipeline.target.name && !expected.contains($0) && !pipeline.ignored.contains($0) && $0 != subject
            }
        guard absent.isEmpty, extra.isEmpty else {
            var parts: [String] = []
            if !absent.isEmpty { parts.append("without \(SiteStatistics.list(absent))") }
            if !extra.isEmpty { parts.append("with \(SiteStatistics.list(extra)) besides") }
            throw fail(
                "the columns differ from the federation's: \(parts.joined(separator: ", ")) (it reads \(SiteStatistics.list(expected)); data.ignore lists columns to skip)"
            )
        }
        let columnIndices = expected.map { header.firstIndex(of: $0)! }
        let vocabularies: [[String: Int]] = pipeline.columns.map { column in
            guard case .categorical(let categorical) = column.kind else { return [:] }
            return Dictionary(uniqueKeysWithValues: categorical.vocabulary.enumerated().map { ($1, $0) })
        }
        let classes = pipeline.target.classes
        let classIndex = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, Int32($0)) })
        let width = pipeline.inputWidth
        var features: [Float] = []
        var labels: [Int32] = []
        var targets: [Float] = []
        var row = [Float](repeating: 0, count: width)
        try parser.forEachRecord { record in
            if let subjectIndex {
                guard let name = record.category(subjectIndex) else {
                    throw record.error("the subject is missing (data.subject)", column: subjectIndex)
                }
                if let id = subjectIDs[name] {
                    subjects.append(id)
                } else {
                    let id = Int32(subjectIDs.count)
                    subjectIDs[name] = id
                    subjects.append(id)
                }
            }
            var offset = 0
            for (k, column) in pipeline.columns.enumerated() {
                let index = columnIndices[k]
                switch column.kind {
                case .numeric(let numeric):
                    var value: Float
                    switch record.number(index) {
                    case .value(let number): value = Float(number)
                    case .missing:
                        guard let imputation = numeric.imputation else {
                            throw record.error(Self.refusedMissing, column: index)
                        }
                        value = imputation
                    case .invalid: throw record.error(Self.notANumber(record.quoted(index)), column: index)
                    }
                    row[offset] = numeric.transform.apply(value)
                case .categorical(let categorical):
                    for j in 0..<categorical.vocabulary.count { row[offset + j] = 0 }
                    if let position = try categoryPosition(
                        record, index, categorical, vocabulary: vocabularies[k])
                    {
                        row[offset + position] = 1
                    }
                }
                offset += column.width
            }
            features.append(contentsOf: row)
            if classes.isEmpty {
                guard case .value(let value) = record.number(labelIndex) else {
                    throw record.error(
                        "the regression target is not a finite number: \(record.quoted(labelIndex))", column: labelIndex
                    )
                }
                targets.append(pipeline.target.transform?.apply(Float(value)) ?? Float(value))
            } else {
                guard let label = record.category(labelIndex) else {
                    throw record.error("the label is missing", column: labelIndex)
                }
                guard let index = classIndex[label] else {
                    throw record.error(
                        "label '\(label)' is outside the agreed classes (\(SiteStatistics.list(classes)))",
                        column: labelIndex)
                }
                labels.append(index)
            }
        }
        let shape = FeatureShape(channels: width)
        let ids = subjectIndex == nil ? nil : subjects
        if classes.isEmpty {
            var dataset = Dataset(shape: shape, features: features, targets: targets, subjects: ids)
            dataset.targetTransform = pipeline.target.transform
            return dataset
        }
        return Dataset(shape: shape, classCount: classes.count, features: features, labels: labels, subjects: ids)
    }

    /// The one-hot position of a categorical cell, nil for all zeros.
    private func categoryPosition(
        _ record: CSVRecord, _ index: Int, _ column: FeaturePipeline.CategoricalColumn, vocabulary: [String: Int]
    ) throws -> Int? {
        guard let category = record.category(index) ?? column.imputation else {
            if column.allowsUnknown { return nil }
            throw record.error(Self.refusedMissing, column: index)
        }
        if let position = vocabulary[category] { return position }
        if column.allowsUnknown { return nil }
        throw record.error(
            "category '\(category)' is not in the federation's vocabulary (\(SiteStatistics.list(column.vocabulary)))",
            column: index)
    }
}
