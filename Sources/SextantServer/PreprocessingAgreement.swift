import SextantML
import SextantRuntime

/// The federation's agreement on preprocessing as a pure state machine (docs/design.md 3):
/// each expected site sends its statistics; once every one has, the pipeline is fitted
/// once and sent to all. A site whose statistics do not merge with those already received
/// is refused with the reason, and the others are kept; a site that sends again replaces
/// its statistics. After the agreement, a late site is answered at once if its data fits.
package struct PreprocessingAgreement {
    package enum Outcome: Equatable {
        /// Still waiting: `have` of `need` sites have sent statistics.
        case waiting(have: Int, need: Int)
        /// Every site has: send this pipeline to `sites` (all of them).
        case agreed(FeaturePipeline, sites: [String])
        /// The site's data fits the agreed pipeline: send it the pipeline.
        case answer(FeaturePipeline)
        /// This site's statistics are refused; tell it why.
        case refused(String)
        /// The sites' statistics together cannot make a pipeline; the run cannot start.
        case failed(String)
    }

    package let expectedSites: Int
    let rules: any PreprocessingRules
    package private(set) var received: [String: [UInt8]] = [:]
    package private(set) var pipeline: FeaturePipeline?

    package init(expectedSites: Int, rules: any PreprocessingRules, agreed: FeaturePipeline? = nil) {
        precondition(expectedSites > 0, "an agreement needs a site")
        self.expectedSites = expectedSites
        self.rules = rules
        pipeline = agreed
    }

    /// Site `site` sent `statistics`.
    package mutating func receive(_ statistics: [UInt8], from site: String) -> Outcome {
        do {
            try rules.check(statistics)
            if let pipeline {
                try rules.check(statistics, against: pipeline)
                return .answer(pipeline)
            }
            let others = received.filter { $0.key != site }.sorted { $0.key < $1.key }.map(\.value)
            if !others.isEmpty { try rules.checkCompatible(statistics, with: others) }
        } catch {
            return .refused("\(error)")
        }
        received[site] = statistics
        guard received.count >= expectedSites else { return .waiting(have: received.count, need: expectedSites) }
        let sites = received.keys.sorted()
        do {
            let fitted = try rules.fit(sites.map { received[$0]! })
            pipeline = fitted
            return .agreed(fitted, sites: sites)
        } catch {
            return .failed("\(error)")
        }
    }
}
