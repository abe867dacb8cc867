import SextantML

/// What the preprocessing agreement needs to know about sites' statistics, which travel as
/// JSON (docs/design.md 3): how to check one site's claim, whether sites' statistics can be
/// merged, and how to fit the federation's ``FeaturePipeline`` from all of them. Every
/// method throws an error whose text names the problem (a column, a bound).
package protocol PreprocessingRules: Sendable {
    /// Checks one site's statistics as a claim (decodable, bounded, finite).
    func check(_ statistics: [UInt8]) throws
    /// Checks that `statistics` merge with `others` (the same columns, the same kind of label).
    func checkCompatible(_ statistics: [UInt8], with others: [[UInt8]]) throws
    /// The preprocessing fitted from every site's statistics.
    func fit(_ sites: [[UInt8]]) throws -> FeaturePipeline
    /// Checks that a site arriving after the agreement holds data the pipeline can read.
    func check(_ statistics: [UInt8], against pipeline: FeaturePipeline) throws
}
