import Foundation
import SextantML
import SextantTestSupport
import Testing

@Suite("CSV reader")
struct CSVReaderTests {
    private let reader = CSVReader(labelColumn: "label", subjectColumn: "subject")

    @Test func parsesLabelSubjectAndFeatures() throws {
        let text = """
            x1, label ,subject,x2
            0.5,1,17,-2
            1.5e1,0,-3,4

            3,2,17,0.25
            """
        let dataset = try reader.parse(text, name: "records.csv")
        #expect(dataset.shape == FeatureShape(channels: 2))
        #expect(dataset.labels == [1, 0, 2])
        #expect(dataset.subjects == [17, -3, 17])
        #expect(dataset.features == [0.5, -2, 15, 4, 3, 0.25])
        #expect(dataset.classCount == 3)
    }

    @Test func subjectColumnIsOptional() throws {
        let dataset = try CSVReader().parse("label,a,b,c\r\n1,2,3,4\r\n0,5,6,7\r\n", name: "crlf.csv")
        #expect(dataset.subjects == nil)
        #expect(dataset.features == [2, 3, 4, 5, 6, 7])
        #expect(dataset.labels == [1, 0])
        // Without a subject column configured, a "subject" column is a feature.
        let withSubject = try CSVReader().parse("subject,label\n4,1\n", name: "s.csv")
        #expect(withSubject.features == [4])
    }

    @Test func readsFromDisk() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write(Array("label,subject,f\n1,2,3\n".utf8), to: "data.csv")
        let dataset = try reader.read(contentsOf: file)
        #expect(dataset.features == [3])
        expectMLError(.fileNotFound, containing: ["missing.csv"]) {
            try reader.read(contentsOf: directory.url(for: "missing.csv"))
        }
        let binary = try directory.write([0xFF, 0xFE, 0xFD], to: "binary.csv")
        expectMLError(.corruptData, containing: ["binary.csv", "UTF-8"]) { try reader.read(contentsOf: binary) }
    }

    @Test func missingLabelColumn() {
        expectMLError(.invalidArgument, containing: ["f.csv", "'label'", "class,subject,x"]) {
            try reader.parse("class,subject,x\n1,2,3\n", name: "f.csv")
        }
        expectMLError(.invalidArgument, containing: ["f.csv", "'subject'"]) {
            try reader.parse("label,person,x\n1,2,3\n", name: "f.csv")
        }
    }

    @Test func wrongFieldCount() {
        expectMLError(.corruptData, containing: ["f.csv line 3", "2 fields", "header has 3"]) {
            try reader.parse("label,subject,x\n1,2,3\n1,2\n", name: "f.csv")
        }
        expectMLError(.corruptData, containing: ["f.csv line 2", "4 fields"]) {
            try reader.parse("label,subject,x\n1,2,3,4\n", name: "f.csv")
        }
    }

    @Test(arguments: [
        ("label,subject,x\n1,2,abc\n", "line 2", "'x'"),
        ("label,subject,x\n1,2,3\n1,2,nan\n", "line 3", "'x'"),
        ("label,subject,x\n1,2,inf\n", "line 2", "'x'"),
        ("label,subject,x\n1,2,\n", "line 2", "'x'"),
        ("label,subject,x\n\n1,seven,1\n", "line 3", "'subject'"),
        ("label,subject,x\none,1,1\n", "line 2", "'label'"),
    ])
    func nonNumericFields(_ text: String, _ line: String, _ column: String) {
        expectMLError(.corruptData, containing: ["f.csv \(line)", column]) { try reader.parse(text, name: "f.csv") }
    }

    @Test(arguments: ["-1", "1.5", "2e9"])
    func invalidLabels(_ label: String) {
        expectMLError(.corruptData, containing: ["f.csv line 2", "label"]) {
            try reader.parse("label,subject,x\n\(label),2,3\n", name: "f.csv")
        }
    }

    @Test func emptyInputs() {
        expectMLError(.corruptData, containing: ["empty.csv", "empty"]) { try reader.parse("", name: "empty.csv") }
        expectMLError(.corruptData, containing: ["blank.csv", "empty"]) {
            try reader.parse("\n  \n", name: "blank.csv")
        }
        expectMLError(.corruptData, containing: ["header.csv", "no data rows"]) {
            try reader.parse("label,subject,x\n", name: "header.csv")
        }
        expectMLError(.corruptData, containing: ["nofeat.csv", "no feature columns"]) {
            try reader.parse("label,subject\n1,2\n", name: "nofeat.csv")
        }
    }
}
