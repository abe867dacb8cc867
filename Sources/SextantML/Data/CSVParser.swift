import Foundation

/// An RFC 4180 CSV parser over the bytes of a file: a header row, then records of fields
/// separated by commas; a field may be quoted (`"..."`), and a quoted field may hold commas,
/// line breaks and doubled quotes (`""` for `"`). Lines end in CRLF, LF or CR; a UTF-8 byte
/// order mark is skipped; the last record may end with a line break or without one; blank
/// lines are skipped. Field text is UTF-8.
///
/// Errors are one line: `NAME line L (row R), column 'C': problem`, where the line is the
/// file's physical line where the record starts (1-based, the header is line 1) and the row
/// counts data records (1 is the first record after the header).
///
/// It parses bytes, never `String` lines, and hands each record to a closure as field
/// ranges into the file's bytes, so that nothing is allocated per field. Measured on one
/// million rows of eleven numeric columns (100 MB; release builds on the 2-core machine,
/// reading the file and converting every field to `Double`, best of 3): this parser 1.03 s,
/// yaslab/CSV.swift 2.5.2 10.1 s, swiftcsv/SwiftCSV 0.10.0 22.1 s, the project's previous
/// reader (String lines split at commas) 34.6 s. Both packages parse the RFC 4180 cases
/// right (quoted commas, doubled quotes, CRLF inside a quoted field), but CSV.swift keeps a
/// byte order mark in the first column's name, and neither is near as fast: the project
/// keeps its own parser. The comparison is `Benchmarks/CSVComparison` (its README has the
/// commands).
package struct CSVParser: Sendable {
    /// The name errors begin with (the file's name).
    package let name: String
    /// The header's column names, spaces around them trimmed.
    package let header: [String]
    private let bytes: [UInt8]
    /// Where the first data record starts, and its line.
    private let bodyStart: Int
    private let bodyLine: Int

    /// Reads a file and its header.
    package init(contentsOf url: URL) throws {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            let exists = FileManager.default.fileExists(atPath: url.path)
            throw SextantMLError(
                code: .fileNotFound, exists ? "\(url.path): cannot read the file" : "\(url.path): no such file")
        }
        try self.init(bytes: [UInt8](data), name: url.lastPathComponent)
    }

    /// Parses the header of `bytes`; `name` appears in errors.
    package init(bytes: [UInt8], name: String) throws {
        self.name = name
        self.bytes = bytes
        var start = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { start = 3 }
        var header: [String]?
        var cursor = Cursor(position: start, line: 1)
        try bytes.withUnsafeBufferPointer { buffer in
            var fields: [Field] = []
            while header == nil, try Self.nextRecord(in: buffer, cursor: &cursor, fields: &fields, name: name) {
                if Self.isBlank(fields, in: buffer) { continue }
                header = try fields.map { field in
                    guard let text = String(bytes: Self.unescaped(field, in: buffer), encoding: .utf8) else {
                        throw SextantMLError(code: .corruptData, "\(name): not UTF-8 text")
                    }
                    return text.trimmingCharacters(in: .whitespaces)
                }
            }
        }
        guard let header else {
            throw SextantMLError(code: .corruptData, "\(name): the file is empty (expected a header row)")
        }
        var seen = Set<String>()
        for column in header {
            guard !column.isEmpty else {
                throw SextantMLError(code: .corruptData, "\(name): the header has an empty column name")
            }
            guard seen.insert(column).inserted else {
                throw SextantMLError(code: .corruptData, "\(name): column '\(column)' appears twice in the header")
            }
        }
        self.header = header
        bodyStart = cursor.position
        bodyLine = cursor.line
    }

    /// Calls `body` with each data record in order; a record whose field count differs from
    /// the header's is an error. Returns the number of records.
    @discardableResult
    package func forEachRecord(_ body: (CSVRecord) throws -> Void) throws -> Int {
        try bytes.withUnsafeBufferPointer { buffer in
            var cursor = Cursor(position: bodyStart, line: bodyLine)
            var fields: [Field] = []
            fields.reserveCapacity(header.count)
            var row = 0
            while true {
                let line = cursor.line
                guard try Self.nextRecord(in: buffer, cursor: &cursor, fields: &fields, name: name) else { break }
                if Self.isBlank(fields, in: buffer) { continue }
                row += 1
                let record = CSVRecord(bytes: buffer, fields: fields, parser: self, row: row, line: line)
                guard fields.count == header.count else {
                    throw record.error("\(fields.count) fields, the header has \(header.count)")
                }
                try body(record)
            }
            return row
        }
    }

    // MARK: - The state machine

    /// One field: the bytes between `start` and `end` (inside the quotes of a quoted field).
    struct Field {
        var start: Int
        var end: Int
        var isQuoted: Bool
        /// A quoted field with doubled quotes, to be unescaped when read as text.
        var hasEscapedQuotes: Bool
    }

    struct Cursor {
        var position: Int
        var line: Int
    }

    private static let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")

    /// Reads the record at `cursor` into `fields`; false at the end of the input.
    private static func nextRecord(
        in b: UnsafeBufferPointer<UInt8>, cursor: inout Cursor, fields: inout [Field], name: String
    ) throws -> Bool {
        var i = cursor.position
        let n = b.count
        guard i < n else { return false }
        fields.removeAll(keepingCapacity: true)
        let recordLine = cursor.line
        var line = recordLine
        func fail(_ problem: String) -> SextantMLError {
            SextantMLError(code: .corruptData, "\(name) line \(line), field \(fields.count + 1): \(problem)")
        }
        while true {
            if i < n, b[i] == quote {
                i += 1
                let start = i
                var escaped = false
                while true {
                    guard i < n else {
                        line = recordLine
                        throw fail("a quoted field is never closed (RFC 4180: a quote inside one is written \"\")")
                    }
                    let c = b[i]
                    if c == quote {
                        if i + 1 < n, b[i + 1] == quote {
                            escaped = true
                            i += 2
                            continue
                        }
                        break
                    }
                    if c == lf || (c == cr && (i + 1 >= n || b[i + 1] != lf)) { line += 1 }
                    i += 1
                }
                i += 1
                if i < n, b[i] != comma, b[i] != cr, b[i] != lf {
                    throw fail("a closing quote must end the field (write a quote inside a quoted field as \"\")")
                }
                fields.append(Field(start: start, end: i - 1, isQuoted: true, hasEscapedQuotes: escaped))
            } else {
                let start = i
                while i < n {
                    let c = b[i]
                    if c == comma || c == lf || c == cr { break }
                    if c == quote { throw fail("a quote inside an unquoted field (quote the whole field)") }
                    i += 1
                }
                fields.append(Field(start: start, end: i, isQuoted: false, hasEscapedQuotes: false))
            }
            guard i < n else { break }
            if b[i] == comma {
                i += 1
                continue
            }
            i += b[i] == cr && i + 1 < n && b[i + 1] == lf ? 2 : 1
            line += 1
            break
        }
        cursor = Cursor(position: i, line: line)
        return true
    }

    /// A line with nothing but spaces.
    private static func isBlank(_ fields: [Field], in b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard fields.count == 1, !fields[0].isQuoted else { return false }
        return (fields[0].start..<fields[0].end).allSatisfy { b[$0] == 0x20 || b[$0] == 0x09 }
    }

    /// The field's bytes with doubled quotes made single.
    fileprivate static func unescaped(_ field: Field, in b: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        let raw = b[field.start..<field.end]
        guard field.hasEscapedQuotes else { return Array(raw) }
        var result: [UInt8] = []
        result.reserveCapacity(raw.count)
        var i = field.start
        while i < field.end {
            result.append(b[i])
            i += b[i] == quote ? 2 : 1
        }
        return result
    }
}

/// One data record of a ``CSVParser``, valid only inside the closure it is passed to.
package struct CSVRecord {
    fileprivate let bytes: UnsafeBufferPointer<UInt8>
    fileprivate let fields: [CSVParser.Field]
    fileprivate let parser: CSVParser
    /// The data record's number (1: the first after the header).
    package let row: Int
    /// The file line where the record starts (1: the header's).
    package let line: Int

    /// The field's text (quotes removed, doubled quotes made single; invalid UTF-8 repaired).
    package func text(_ column: Int) -> String {
        let field = fields[column]
        if field.hasEscapedQuotes {
            return String(decoding: CSVParser.unescaped(field, in: bytes), as: UTF8.self)
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[field.start..<field.end]), as: UTF8.self)
    }

    /// The field's text with surrounding spaces removed, nil when that is empty (a missing cell).
    package func category(_ column: Int) -> String? {
        let (start, end) = trimmed(column)
        guard start < end else { return nil }
        let text = self.text(column)
        return start == fields[column].start && end == fields[column].end
            ? text : text.trimmingCharacters(in: .whitespaces)
    }

    /// A numeric cell.
    package enum Number {
        case value(Double)
        /// Empty, or `NA`, `N/A`, `NaN`, `null` (any case), as pandas and NumPy write a missing value.
        case missing
        /// Text that is not a finite decimal number.
        case invalid
    }

    /// The field as a finite number.
    package func number(_ column: Int) -> Number {
        let (start, end) = trimmed(column)
        guard start < end else { return .missing }
        if let value = DecimalParser.parse(bytes, from: start, to: end) {
            return value.isFinite ? .value(value) : .invalid
        }
        return DecimalParser.isMissingMarker(bytes, from: start, to: end) ? .missing : .invalid
    }

    /// An error about this record: `NAME line L (row R): problem`, or with the column.
    package func error(_ problem: String, column: Int? = nil) -> SextantMLError {
        let place = column.map { ", column '\(parser.header[$0])'" } ?? ""
        return SextantMLError(code: .corruptData, "\(parser.name) line \(line) (row \(row))\(place): \(problem)")
    }

    /// What a bad numeric cell holds, for error messages (at most 40 characters).
    package func quoted(_ column: Int) -> String {
        let text = self.text(column)
        return "'" + (text.count > 40 ? text.prefix(40) + "..." : text) + "'"
    }

    private func trimmed(_ column: Int) -> (Int, Int) {
        var start = fields[column].start
        var end = fields[column].end
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        return (start, end)
    }
}
