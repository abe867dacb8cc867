/// What one site (or several, merged) tells the federation about its data so that the
/// preprocessing can be agreed: counts, sums, sums of squares, extremes and category counts,
/// never records. Sent by each client at the start of a run as JSON; ``merge(_:)`` adds
/// two sites' statistics, and ``FeaturePipeline/fit(statistics:options:task:)`` turns the
/// merged ones into the pipeline.
///
/// A site's statistics are a claim the server checks (``validate()``): counts within bounds
/// and consistent with the record count, every number finite, vocabularies bounded.
package struct SiteStatistics: Hashable, Sendable, Codable {
    /// Records in all.
    package var recordCount: Int
    /// The feature columns of a table, in the file order of the first site.
    package var columns: [ColumnStatistics]
    package var label: LabelStatistics
    /// The shape of one array record (channels, height, width); nil for tables.
    package var arrayShape: FeatureShape?
    /// Per channel of array data: every value of that channel in every record.
    package var channels: [NumericStatistics]

    package init(
        recordCount: Int, columns: [ColumnStatistics], label: LabelStatistics, arrayShape: FeatureShape? = nil,
        channels: [NumericStatistics] = []
    ) {
        self.recordCount = recordCount
        self.columns = columns
        self.label = label
        self.arrayShape = arrayShape
        self.channels = channels
    }

    /// Bounds a claim must respect.
    package static let maximumRecords = 1_000_000_000
    package static let maximumClasses = 1000
    package static let maximumCategories = 10_000
    package static let maximumColumns = 100_000
    package static let maximumNameLength = 256

    /// One feature column: numeric (``numeric``) or categorical (``categories``).
    package struct ColumnStatistics: Hashable, Sendable, Codable {
        package var name: String
        package var numeric: NumericStatistics?
        package var categories: CategoryCounts?

        package init(name: String, numeric: NumericStatistics) {
            self.name = name
            self.numeric = numeric
        }

        package init(name: String, categories: CategoryCounts) {
            self.name = name
            self.categories = categories
        }

        var kind: String { numeric != nil ? "numeric" : "categorical" }
    }

    /// How often each category occurs, and how many cells are missing.
    package struct CategoryCounts: Hashable, Sendable, Codable {
        package var counts: [String: Int]
        package var missing: Int

        package init(counts: [String: Int] = [:], missing: Int = 0) {
            self.counts = counts
            self.missing = missing
        }

        mutating func merge(_ other: CategoryCounts) {
            counts.merge(other.counts, uniquingKeysWith: +)
            missing += other.missing
        }
    }

    /// The label: class counts for classification, value statistics for regression.
    package struct LabelStatistics: Hashable, Sendable, Codable {
        package var name: String
        package var classCounts: [String: Int]?
        package var values: NumericStatistics?

        package init(name: String, classCounts: [String: Int]) {
            self.name = name
            self.classCounts = classCounts
        }

        package init(name: String, values: NumericStatistics) {
            self.name = name
            self.values = values
        }
    }

    /// Adds another site's statistics; refuses sites whose columns, label or array shape differ,
    /// naming what differs.
    package mutating func merge(_ other: SiteStatistics) throws {
        func fail(_ message: String) -> SextantMLError { SextantMLError(code: .corruptData, message) }
        let names = columns.map(\.name)
        let otherNames = other.columns.map(\.name)
        if Set(names) != Set(otherNames) {
            let missing = names.filter { !otherNames.contains($0) }
            let extra = otherNames.filter { !names.contains($0) }
            var parts: [String] = []
            if !missing.isEmpty { parts.append("without \(Self.list(missing))") }
            if !extra.isEmpty { parts.append("with \(Self.list(extra)) besides") }
            throw fail("a site's feature columns differ from the federation's: " + parts.joined(separator: ", "))
        }
        guard label.name == other.label.name else {
            throw fail("a site's label column is '\(other.label.name)', the federation's '\(label.name)'")
        }
        guard arrayShape == other.arrayShape, channels.count == other.channels.count else {
            throw fail(
                "a site's records have shape \(other.arrayShape.map { "\($0)" } ?? "of a table"), the federation's \(arrayShape.map { "\($0)" } ?? "of a table")"
            )
        }
        let byName = Dictionary(uniqueKeysWithValues: other.columns.map { ($0.name, $0) })
        for index in columns.indices {
            let theirs = byName[columns[index].name]!
            switch (columns[index].numeric, theirs.numeric, columns[index].categories, theirs.categories) {
            case (.some(var mine), .some(let their), _, _):
                mine.merge(their)
                columns[index].numeric = mine
            case (_, _, .some(var mine), .some(let their)):
                mine.merge(their)
                columns[index].categories = mine
            default:
                throw fail(
                    "column '\(columns[index].name)' is \(columns[index].kind) at one site and \(theirs.kind) at another"
                )
            }
        }
        switch (label.classCounts, other.label.classCounts, label.values, other.label.values) {
        case (.some(let mine), .some(let their), _, _):
            label.classCounts = mine.merging(their, uniquingKeysWith: +)
        case (_, _, .some(var mine), .some(let their)):
            mine.merge(their)
            label.values = mine
        default:
            throw fail("the label '\(label.name)' is classes at one site and numbers at another")
        }
        for index in channels.indices { channels[index].merge(other.channels[index]) }
        recordCount += other.recordCount
    }

    /// The statistics of every site, merged.
    package static func merged(_ sites: [SiteStatistics]) throws -> SiteStatistics {
        guard var result = sites.first else {
            throw SextantMLError(code: .invalidArgument, "no site statistics to merge")
        }
        for site in sites.dropFirst() { try result.merge(site) }
        return result
    }

    /// Checks the claim a site makes: one line naming the first problem.
    package func validate() throws {
        func fail(_ problem: String) -> SextantMLError {
            SextantMLError(code: .corruptData, "site statistics: \(problem)")
        }
        guard recordCount > 0, recordCount <= Self.maximumRecords else {
            throw fail("record count \(recordCount) is outside 1...\(Self.maximumRecords)")
        }
        guard columns.count <= Self.maximumColumns, channels.count <= Self.maximumColumns else {
            throw fail("more than \(Self.maximumColumns) columns")
        }
        func checkName(_ name: String) throws {
            guard !name.isEmpty, name.utf8.count <= Self.maximumNameLength else {
                throw fail("a name is empty or longer than \(Self.maximumNameLength) bytes")
            }
        }
        func checkCounts(_ counts: [String: Int], what: String, limit: Int) throws {
            guard counts.count <= limit else { throw fail("\(what) has more than \(limit) distinct values") }
            for (name, count) in counts {
                try checkName(name)
                guard count > 0, count <= recordCount else {
                    throw fail("\(what): count \(count) of '\(name)' is outside 1...\(recordCount)")
                }
            }
            guard counts.values.reduce(0, +) <= recordCount else {
                throw fail("\(what): the counts add up to more than \(recordCount) records")
            }
        }
        var seen = Set<String>()
        for column in columns {
            try checkName(column.name)
            guard seen.insert(column.name).inserted else { throw fail("column '\(column.name)' appears twice") }
            switch (column.numeric, column.categories) {
            case (.some(let numeric), nil):
                if let problem = numeric.problem(records: recordCount) {
                    throw fail("column '\(column.name)': \(problem)")
                }
            case (nil, .some(let categories)):
                try checkCounts(categories.counts, what: "column '\(column.name)'", limit: Self.maximumCategories)
                guard categories.missing >= 0, categories.missing + categories.counts.values.reduce(0, +) == recordCount
                else { throw fail("column '\(column.name)': category and missing counts do not add up to the records") }
            default:
                throw fail("column '\(column.name)' must be either numeric or categorical")
            }
        }
        try checkName(label.name)
        switch (label.classCounts, label.values) {
        case (.some(let classes), nil):
            try checkCounts(classes, what: "label '\(label.name)'", limit: Self.maximumClasses)
            guard classes.values.reduce(0, +) == recordCount else {
                throw fail("label '\(label.name)': the class counts do not add up to the records")
            }
        case (nil, .some(let values)):
            if let problem = values.problem(records: recordCount) { throw fail("label '\(label.name)': \(problem)") }
            guard values.missing == 0 else { throw fail("label '\(label.name)': missing values") }
        default:
            throw fail("label '\(label.name)' must have class counts or value statistics")
        }
        if let arrayShape {
            guard arrayShape.channels == channels.count, arrayShape.count > 0, columns.isEmpty else {
                throw fail("array shape \(arrayShape) does not match \(channels.count) channel statistics")
            }
            let perChannel = recordCount.multipliedReportingOverflow(by: arrayShape.height * arrayShape.width)
            for (index, channel) in channels.enumerated() {
                if let problem = channel.problem(records: perChannel.overflow ? Int.max : perChannel.partialValue) {
                    throw fail("channel \(index): \(problem)")
                }
            }
        } else if !channels.isEmpty {
            throw fail("channel statistics without an array shape")
        }
    }

    static func list(_ names: [String]) -> String {
        let shown = names.prefix(8).map { "'\($0)'" }.joined(separator: ", ")
        return names.count > 8 ? shown + " and \(names.count - 8) more" : shown
    }
}
