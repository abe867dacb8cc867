import Foundation
import Testing

@testable import SextantAudit

@Suite("Reports")
struct ReportTests {
    func report() throws -> AuditReport {
        let subjects = (0..<40).map(Int32.init)
        let losses = subjects.map { subject in
            (0..<6).map { c in 2.0 - Double(c) * (subject % 2 == 0 ? 0.3 : 0.1) + Double(subject % 7) * 0.01 }
        }
        let trajectories = LossTrajectories(versions: Array(0..<6), subjects: subjects, losses: losses)
        var configuration = SubjectAudit.Configuration()
        configuration.metrics.bootstrapResamples = 100
        return try SubjectAudit(configuration: configuration).analyze(
            trajectories, membership: Dictionary(uniqueKeysWithValues: subjects.map { ($0, $0 % 2 == 0) }),
            run: .init(
                id: "run <1>", fingerprint: "logreg:20:4:84", config: "rounds: 5\nname: \"a & b\"\n",
                storedCheckpoints: 6, accountantEpsilon: 2.5))
    }

    @Test func htmlIsSelfContainedAndWellFormed() throws {
        let html = try report().html()
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<svg"))
        #expect(html.components(separatedBy: "<svg").count - 1 == 4)  // ROC, two histograms, trajectories
        #expect(html.components(separatedBy: "<svg").count == html.components(separatedBy: "</svg>").count)
        #expect(!html.contains("http://") && !html.contains("https://"))
        #expect(!html.contains("<script") && !html.contains("<link") && !html.contains("src="))
        // User text is escaped.
        #expect(html.contains("run &lt;1&gt;"))
        #expect(html.contains("a &amp; b"))
        #expect(!html.contains("run <1>"))
        // Every opened element of the kinds we emit is closed.
        for tag in ["html", "head", "body", "table", "tr", "ul", "pre", "svg", "title", "style"] {
            let opened =
                html.components(separatedBy: "<\(tag)>").count + html.components(separatedBy: "<\(tag) ").count - 2
            let closed = html.components(separatedBy: "</\(tag)>").count - 1
            #expect(opened == closed, "<\(tag)> opened \(opened) times, closed \(closed)")
        }
        #expect(html.contains("AUC"))
    }

    @Test func jsonAndTerminalSummaries() throws {
        let report = try report()
        let json = try JSONSerialization.jsonObject(with: try report.jsonData()) as? [String: Any]
        let attacks = try #require(json?["attacks"] as? [[String: Any]])
        #expect(attacks.count == 2)
        #expect((json?["run"] as? [String: Any])?["accountantEpsilon"] as? Double == 2.5)
        let summary = report.terminalSummary()
        #expect(summary.contains("Final-model loss"))
        #expect(summary.contains("TPR at 10% FPR"))
        #expect(summary.contains("Verdict:"))
        #expect(summary.contains("TPR at 1% FPR omitted"))
        #expect(summary.contains("Accountant epsilon: 2.500"))
    }

    /// A run under secure aggregation says so under the accountant's line.
    @Test func secureAggregationIsStated() throws {
        var report = try report()
        #expect(!report.terminalSummary().contains("Secure aggregation"))
        report.run.secureAggregation = "on: the server held each round's masked inputs and their sum, never one update"
        #expect(report.terminalSummary().contains("Secure aggregation: on: the server held each round's masked inputs"))
    }

    /// The verdict compares the one-run bound with the accountant's epsilon only in the same
    /// unit at the same delta, and names what the epsilon protects.
    @Test func theVerdictComparesLikeWithLike() throws {
        var report = try report()
        report.independentInclusion = true
        report.run.accountantGuarantee = "subject-level, add/remove all of one subject's records, delta=1e-05"
        report.run.accountantUnit = "subject"
        report.run.accountantDelta = report.metricsConfiguration.delta
        #expect(
            report.verdict.contains("is subject-level at the same delta, so the one-run lower bound must stay below it")
        )
        #expect(report.terminalSummary().contains("Accountant epsilon: 2.500 (subject-level, add/remove"))
        report.run.accountantUnit = "record"
        #expect(report.verdict.contains("is not a subject-level figure at delta"))
        report.run.accountantUnit = "subject"
        report.run.accountantDelta = 1e-3
        #expect(report.verdict.contains("is not a subject-level figure at delta"))
    }
}
