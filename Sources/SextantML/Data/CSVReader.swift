import Foundation

/// Reads a numeric CSV file with a header row: one column is the label (integer class
/// index), an optional one the subject id, every other column a feature. The format of the
/// audit's subject federations; a site's own tables go through ``SiteData``.
package struct CSVReader: Sendable {
    package var labelColumn: String
    package var subjectColumn: String?

    package init(labelColumn: String = "label", subjectColumn: String? = nil) {
        self.labelColumn = labelColumn
        self.subjectColumn = subjectColumn
    }

    package func read(contentsOf url: URL) throws -> Dataset {
        try read(CSVParser(contentsOf: url))
    }

    /// Parses CSV text; `name` appears in errors, with the line number.
    package func parse(_ text: String, name: String) throws -> Dataset {
        try read(CSVParser(bytes: Array(text.utf8), name: name))
    }

    private func read(_ parser: CSVParser) throws -> Dataset {
        let name = parser.name
        let columns = parser.header
        guard let labelIndex = columns.firstIndex(of: labelColumn) else {
            throw SextantMLError(
                code: .invalidArgument,
                "\(name): no label column '\(labelColumn)' in header (\(columns.joined(separator: ",")))")
        }
        var subjectIndex: Int?
        if let subjectColumn {
            guard let index = columns.firstIndex(of: subjectColumn) else {
                throw SextantMLError(code: .invalidArgument, "\(name): no subject column '\(subjectColumn)' in header")
            }
            subjectIndex = index
        }
        let featureIndices = columns.indices.filter { $0 != labelIndex && $0 != subjectIndex }
        guard !featureIndices.isEmpty else {
            throw SextantMLError(code: .corruptData, "\(name): no feature columns")
        }
        var features: [Float] = []
        var labels: [Int32] = []
        var subjects: [Int32] = []
        try parser.forEachRecord { record in
            func number(_ index: Int) throws -> Double {
                guard case .value(let value) = record.number(index) else {
                    throw record.error("not a finite number: \(record.quoted(index))", column: index)
                }
                return value
            }
            let label = try number(labelIndex)
            guard label >= 0, label == label.rounded(), label < 1_000_000 else {
                throw record.error("label \(label) is not a non-negative integer", column: labelIndex)
            }
            labels.append(Int32(label))
            if let subjectIndex {
                let subject = try number(subjectIndex)
                guard subject == subject.rounded(), abs(subject) < Double(Int32.max) else {
                    throw record.error("subject id \(subject) is not an integer", column: subjectIndex)
                }
                subjects.append(Int32(subject))
            }
            for index in featureIndices {
                features.append(Float(try number(index)))
            }
        }
        guard !labels.isEmpty else {
            throw SextantMLError(code: .corruptData, "\(name): no data rows after the header")
        }
        let classCount = Int(labels.max()!) + 1
        return Dataset(
            shape: FeatureShape(channels: featureIndices.count), classCount: classCount,
            features: features, labels: labels, subjects: subjectIndex == nil ? nil : subjects)
    }
}
