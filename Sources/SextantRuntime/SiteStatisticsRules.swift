import Foundation
import SextantML

/// The preprocessing rules of sites' own data (docs/design.md 3): statistics travel as the
/// JSON of ``SiteStatistics``, are checked as claims (``SiteStatistics/validate()``), merged
/// (refusing sites whose columns or label differ) and fitted into a ``FeaturePipeline`` with
/// the federation's `data:` options and the model's task.
package struct SiteStatisticsRules: PreprocessingRules {
    package let options: SiteDataOptions
    package let task: TaskSpec.Kind

    package init(options: SiteDataOptions, task: TaskSpec.Kind) {
        self.options = options
        self.task = task
    }

    package static func encode(_ statistics: SiteStatistics) throws -> [UInt8] {
        try canonicalJSON(statistics)
    }

    /// The JSON that statistics and pipelines travel and are stored as: sorted keys, so
    /// the same value always gives the same bytes (a resumed run compares them).
    package static func canonicalJSON(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(value))
    }

    func decode(_ bytes: [UInt8]) throws -> SiteStatistics {
        let statistics: SiteStatistics
        do {
            statistics = try JSONDecoder().decode(SiteStatistics.self, from: Data(bytes))
        } catch {
            throw RuntimeError(.protocolViolation, "site statistics are not readable JSON")
        }
        try statistics.validate()
        return statistics
    }

    package func check(_ statistics: [UInt8]) throws {
        _ = try decode(statistics)
    }

    package func checkCompatible(_ statistics: [UInt8], with others: [[UInt8]]) throws {
        var merged = try SiteStatistics.merged(try others.map(decode))
        try merged.merge(try decode(statistics))
    }

    package func fit(_ sites: [[UInt8]]) throws -> FeaturePipeline {
        try FeaturePipeline.fit(
            statistics: try SiteStatistics.merged(try sites.map(decode)), options: options, task: task)
    }

    /// A late site must have the agreed columns (by name, of the same kind) and no class the
    /// federation did not agree on.
    package func check(_ statistics: [UInt8], against pipeline: FeaturePipeline) throws {
        let site = try decode(statistics)
        let agreed = Set(pipeline.columns.map(\.name))
        let theirs = Set(site.columns.map(\.name))
        guard agreed == theirs || pipeline.arrayShape != nil else {
            let missing = agreed.subtracting(theirs).sorted()
            let extra = theirs.subtracting(agreed).sorted()
            throw RuntimeError(
                .rejected,
                "this site's feature columns differ from the agreed ones: missing \(missing), extra \(extra)")
        }
        if pipeline.arrayShape != nil, site.arrayShape != pipeline.arrayShape {
            throw RuntimeError(
                .rejected,
                "this site's records have shape \(site.arrayShape.map { "\($0)" } ?? "of a table"), the agreed \(pipeline.arrayShape!)"
            )
        }
        if let classes = site.label.classCounts {
            let unknown = Set(classes.keys).subtracting(pipeline.target.classes).sorted()
            guard unknown.isEmpty else {
                throw RuntimeError(
                    .rejected,
                    "this site's labels \(unknown) are outside the agreed classes \(pipeline.target.classes)")
            }
        }
    }
}
