import Foundation
import SextantML
import Testing

@testable import SextantRuntime
@testable import SextantServer

/// The agreement on preprocessing as a state machine, with rules that read `a,b;n` (the
/// columns, then a record count) so the test sees only the agreement's logic.
@Suite struct PreprocessingAgreementTests {
    struct ColumnRules: PreprocessingRules {
        struct Problem: Error, CustomStringConvertible { var description: String }

        static func parse(_ bytes: [UInt8]) throws -> (columns: [String], records: Int) {
            let parts = String(decoding: bytes, as: UTF8.self).split(separator: ";")
            guard parts.count == 2, let records = Int(parts[1]), records >= 0 else {
                throw Problem(description: "unreadable statistics")
            }
            return (parts[0].split(separator: ",").map(String.init), records)
        }

        func check(_ statistics: [UInt8]) throws { _ = try Self.parse(statistics) }

        func checkCompatible(_ statistics: [UInt8], with others: [[UInt8]]) throws {
            let columns = try Self.parse(statistics).columns
            let first = try Self.parse(others[0]).columns
            guard columns == first else {
                throw Problem(description: "columns \(columns) differ from the federation's \(first)")
            }
        }

        func fit(_ sites: [[UInt8]]) throws -> FeaturePipeline {
            let parsed = try sites.map(Self.parse)
            let total = parsed.reduce(0) { $0 + $1.records }
            guard total > 0 else { throw Problem(description: "no records in the federation") }
            let columns = parsed[0].columns.map {
                FeaturePipeline.Column(
                    name: $0,
                    kind: .numeric(
                        .init(transform: .init(scaling: .standardize, shift: Float(total), scale: 1))))
            }
            return FeaturePipeline(columns: columns, target: .init(name: "y", classes: ["0", "1"]))
        }

        func check(_ statistics: [UInt8], against pipeline: FeaturePipeline) throws {
            let columns = try Self.parse(statistics).columns
            guard columns == pipeline.columns.map(\.name) else {
                throw Problem(description: "columns \(columns) differ from the agreed \(pipeline.columns.map(\.name))")
            }
        }
    }

    static func stats(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test("waits for every expected site, fits once from all of them, then answers late sites at once")
    func agreesOnce() throws {
        var agreement = PreprocessingAgreement(expectedSites: 3, rules: ColumnRules())
        #expect(agreement.receive(Self.stats("a,b;10"), from: "s0") == .waiting(have: 1, need: 3))
        // Sending again replaces a site's statistics: still one site.
        #expect(agreement.receive(Self.stats("a,b;20"), from: "s0") == .waiting(have: 1, need: 3))
        #expect(agreement.receive(Self.stats("a,b;5"), from: "s1") == .waiting(have: 2, need: 3))
        guard case .agreed(let pipeline, let sites) = agreement.receive(Self.stats("a,b;5"), from: "s2") else {
            Issue.record("no agreement")
            return
        }
        #expect(sites == ["s0", "s1", "s2"])
        // Fitted from all three, with s0's second claim: 20 + 5 + 5.
        guard case .numeric(let column) = pipeline.columns[0].kind else { return }
        #expect(column.transform.shift == 30)
        #expect(agreement.receive(Self.stats("a,b;7"), from: "s3") == .answer(pipeline))
        #expect(
            agreement.receive(Self.stats("a,c;7"), from: "s4")
                == .refused("columns [\"a\", \"c\"] differ from the agreed [\"a\", \"b\"]"))
    }

    @Test("a site whose columns differ is refused and the others are kept")
    func refusesAMismatch() {
        var agreement = PreprocessingAgreement(expectedSites: 2, rules: ColumnRules())
        _ = agreement.receive(Self.stats("a,b;10"), from: "s0")
        let outcome = agreement.receive(Self.stats("a,b,c;10"), from: "s1")
        #expect(outcome == .refused("columns [\"a\", \"b\", \"c\"] differ from the federation's [\"a\", \"b\"]"))
        #expect(agreement.received.keys.sorted() == ["s0"])
        #expect(agreement.receive(Self.stats("garbage"), from: "s1") == .refused("unreadable statistics"))
        if case .agreed = agreement.receive(Self.stats("a,b;1"), from: "s1") {} else { Issue.record("no agreement") }
    }

    @Test("statistics that cannot make a pipeline fail the agreement with the reason")
    func failure() {
        var agreement = PreprocessingAgreement(expectedSites: 1, rules: ColumnRules())
        #expect(agreement.receive(Self.stats("a;0"), from: "s0") == .failed("no records in the federation"))
    }
}
