import Foundation
import SextantML
import Testing

/// `data.subject`: the column naming whose record each row is, read as subject ids and
/// never as a feature; refused when absent or empty (docs/design.md 7).
@Suite("Site data: the subject column")
struct SiteSubjectColumnTests {
    static let table = "person,age,bp,diagnosis\nann,50,120,benign\nbob,60,130,malignant\nann,70,110,benign\n"
    static let options = SiteDataOptions(label: "diagnosis", subject: "person")

    @Test func theSubjectColumnGivesIdsAndIsNoFeature() throws {
        let site = try SiteData(csv: Array(Self.table.utf8), name: "a.csv", options: Self.options)
        let statistics = try site.statistics(task: .classification)
        #expect(statistics.columns.map(\.name) == ["age", "bp"])
        let pipeline = try FeaturePipeline.fit(statistics: statistics, options: Self.options, task: .classification)
        let dataset = try site.dataset(pipeline: pipeline)
        #expect(dataset.subjects == [0, 1, 0])
        #expect(dataset.shape.count == 2)
    }

    @Test func aMissingSubjectColumnIsNamed() throws {
        let options = SiteDataOptions(label: "diagnosis", subject: "patient")
        let site = try SiteData(csv: Array(Self.table.utf8), name: "a.csv", options: options)
        let error = #expect(throws: SextantMLError.self) { try site.statistics(task: .classification) }
        #expect(error?.message.contains("data.subject names 'patient', not in the header") == true)
    }

    @Test func aRowWithoutASubjectIsRefused() throws {
        let text = "person,age,bp,diagnosis\nann,50,120,benign\n,60,130,malignant\n"
        let site = try SiteData(csv: Array(text.utf8), name: "a.csv", options: Self.options)
        let statistics = try site.statistics(task: .classification)
        let pipeline = try FeaturePipeline.fit(statistics: statistics, options: Self.options, task: .classification)
        let error = #expect(throws: SextantMLError.self) { try site.dataset(pipeline: pipeline) }
        #expect(error?.message.contains("the subject is missing") == true)
    }

    @Test func theSubjectIsNeverAFeatureOrTheLabel() {
        #expect(throws: SextantMLError.self) { try SiteDataOptions(label: "person", subject: "person").validate() }
        #expect(throws: SextantMLError.self) {
            try SiteDataOptions(label: "diagnosis", categorical: ["person"], subject: "person").validate()
        }
    }
}
