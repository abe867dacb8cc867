import Foundation

/// Reads a numeric CSV file with a header row: one column is the label (integer class
/// index), an optional one the subject id, every other column a feature.
package struct CSVReader: Sendable {
    package var labelColumn: String
    package var subjectColumn: String?

    package init(labelColumn: String = "label", subjectColumn: String? = nil) {
        self.labelColumn = labelColumn
        self.subjectColumn = subjectColumn
    }

    package func read(contentsOf url: URL) throws -> Dataset {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw SextantMLError(code: .fileNotFound, "\(url.path): no such file or it cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SextantMLError(code: .corruptData, "\(url.path): not UTF-8 text")
        }
        return try parse(text, name: url.lastPathComponent)
    }

    /// Parses CSV text; `name` appears in errors, with the line number.
    package func parse(_ text: String, name: String) throws -> Dataset {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated()
            .filter { !$0.element.trimmingCharacters(in: .whitespaces).isEmpty }.makeIterator()
        guard let header = lines.next() else {
            throw SextantMLError(code: .corruptData, "\(name): the file is empty (expected a header row)")
        }
        let columns = header.element.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
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
        while let (offset, line) = lines.next() {
            let lineNumber = offset + 1
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == columns.count else {
                throw SextantMLError(
                    code: .corruptData,
                    "\(name) line \(lineNumber): \(fields.count) fields, the header has \(columns.count)")
            }
            func number(_ index: Int) throws -> Double {
                let field = fields[index].trimmingCharacters(in: .whitespaces)
                guard let value = Double(field), value.isFinite else {
                    throw SextantMLError(
                        code: .corruptData,
                        "\(name) line \(lineNumber): column '\(columns[index])' is not a finite number: '\(field)'")
                }
                return value
            }
            let label = try number(labelIndex)
            guard label >= 0, label == label.rounded(), label < 1_000_000 else {
                throw SextantMLError(
                    code: .corruptData, "\(name) line \(lineNumber): label \(label) is not a non-negative integer")
            }
            labels.append(Int32(label))
            if let subjectIndex {
                let subject = try number(subjectIndex)
                guard subject == subject.rounded(), abs(subject) < Double(Int32.max) else {
                    throw SextantMLError(
                        code: .corruptData, "\(name) line \(lineNumber): subject id \(subject) is not an integer")
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
