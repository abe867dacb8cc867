import SextantAggregation
import Testing

@testable import SextantRuntime

@Suite struct RobustAggregationConfigurationTests {
    @Test func eachRuleIsReadWithItsParameters() throws {
        let yaml = "scheduler: {kind: fedbuff}\nserver: {robust_aggregation: trimmed_mean, trim_fraction: 0.2}\n"
        #expect(try decodeConfiguration(yaml).server.robust == .trimmedMean(fraction: 0.2))
        let krum = "scheduler: {kind: compass}\nserver: {robust_aggregation: multi_krum, krum_byzantine: 2}\n"
        #expect(try decodeConfiguration(krum).server.robust == .multiKrum(byzantine: 2))
        #expect(try decodeConfiguration("server: {}\n").server.robust == .mean)
    }

    @Test func rulesThatCompareUpdatesAreRefusedWithFedAsync() {
        let message = refusal(of: "scheduler: {kind: fedasync}\nserver: {robust_aggregation: median}\n")
        #expect(message?.contains("fedasync applies each update alone") == true)
        #expect(refusal(of: "scheduler: {kind: fedasync}\nserver: {robust_aggregation: norm_bound}\n") == nil)
    }

    @Test func anUnknownRuleOrABadParameterNamesTheKey() {
        #expect(refusal(of: "server: {robust_aggregation: krum}\n")?.contains("server.robust_aggregation") == true)
        #expect(
            refusal(of: "server: {robust_aggregation: trimmed_mean, trim_fraction: 0.5}\n")?.contains(
                "server.trim_fraction") == true)
    }
}
