import SextantML
import Testing

@testable import SextantRuntime
@testable import SextantServer

/// The agreement on real site tables: statistics in, one pipeline out, mismatches refused.
@Suite struct SiteStatisticsRulesTests {
    static let options = SiteDataOptions(
        label: "diagnosis", ignore: ["id"], categorical: ["group"], missing: .mean, scaling: .standardize)
    static let rules = SiteStatisticsRules(options: options, task: .classification)

    static func statistics(_ csv: String, name: String) throws -> [UInt8] {
        let site = try SiteData(csv: Array(csv.utf8), name: name, options: options)
        return try SiteStatisticsRules.encode(try site.statistics(task: .classification))
    }

    @Test("three sites agree on one pipeline: numeric, one-hot and the classes of all of them")
    func threeSites() throws {
        var agreement = PreprocessingAgreement(expectedSites: 3, rules: Self.rules)
        let a = try Self.statistics("id,x,group,diagnosis\nMRN-1,1.0,a,benign\nMRN-2,,b,malignant\n", name: "a.csv")
        let b = try Self.statistics("id,x,group,diagnosis\nMRN-3,3.0,a,benign\n", name: "b.csv")
        let c = try Self.statistics("id,x,group,diagnosis\r\nMRN-4,5.0,c,benign\r\n", name: "c.csv")
        #expect(agreement.receive(a, from: "site-0") == .waiting(have: 1, need: 3))
        // Another column layout is refused, and the others are kept.
        let other = try Self.statistics("id,y,group,diagnosis\nMRN-9,1.0,a,benign\n", name: "d.csv")
        guard case .refused(let reason) = agreement.receive(other, from: "site-9") else {
            Issue.record("a site with other columns was accepted")
            return
        }
        #expect(reason.contains("feature columns differ"), "\(reason)")
        _ = agreement.receive(b, from: "site-1")
        guard case .agreed(let pipeline, let sites) = agreement.receive(c, from: "site-2") else {
            Issue.record("no agreement")
            return
        }
        #expect(sites == ["site-0", "site-1", "site-2"])
        #expect(pipeline.target.classes == ["benign", "malignant"])
        // x, then the one-hot of a, b, c.
        #expect(pipeline.inputWidth == 4)
        guard case .numeric(let x) = pipeline.columns.first(where: { $0.name == "x" })?.kind else {
            Issue.record("no numeric x")
            return
        }
        // Mean over every site's values (1, 3, 5), never a site's own.
        #expect(x.imputation == 3)
        // A late site with a class nobody agreed on is refused; one that fits is answered.
        let late = try Self.statistics("id,x,group,diagnosis\nMRN-5,2.0,a,unknown\n", name: "e.csv")
        guard case .refused(let lateReason) = agreement.receive(late, from: "site-3") else {
            Issue.record("a late site with a new class was accepted")
            return
        }
        #expect(lateReason.contains("outside the agreed classes"), "\(lateReason)")
        #expect(agreement.receive(b, from: "site-1") == .answer(pipeline))
    }

    @Test("statistics that are not JSON, or claim impossible counts, are refused as claims")
    func claims() {
        #expect(throws: (any Error).self) { try Self.rules.check(Array("not json".utf8)) }
        #expect(throws: (any Error).self) {
            try Self.rules.check(Array(#"{"recordCount":-5,"columns":[],"label":{"name":"d"},"channels":[]}"#.utf8))
        }
    }
}
