import SextantML
import Testing

@Suite("CSV parser (RFC 4180)")
struct CSVParserTests {
    /// Every record's fields as text.
    private func records(_ text: String, name: String = "t.csv") throws -> (header: [String], rows: [[String]]) {
        let parser = try CSVParser(bytes: Array(text.utf8), name: name)
        var rows: [[String]] = []
        try parser.forEachRecord { record in rows.append(parser.header.indices.map { record.text($0) }) }
        return (parser.header, rows)
    }

    @Test func quotedFieldsHoldCommasQuotesAndLineBreaks() throws {
        let (header, rows) = try records("a,b,c\n\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\"\n1,\"\",3\n")
        #expect(header == ["a", "b", "c"])
        #expect(rows == [["x,y", "say \"hi\"", "two\nlines"], ["1", "", "3"]])
    }

    @Test(arguments: [
        "a,b\r\n1,2\r\n3,4\r\n",  // CRLF
        "a,b\n1,2\n3,4",  // no final line break
        "\u{FEFF}a,b\n1,2\n3,4\n",  // byte order mark
        "a,b\r1,2\r3,4\r",  // CR alone
        "a,b\n1,2\n\n3,4\n\n",  // blank lines
        "\"a\",\"b\"\n\"1\",2\n3,\"4\"\n",  // quoted header and cells
    ])
    func lineEndingsAndMarks(_ text: String) throws {
        let (header, rows) = try records(text)
        #expect(header == ["a", "b"])
        #expect(rows == [["1", "2"], ["3", "4"]])
    }

    @Test func crlfInsideQuotesIsKeptAndLinesAreCounted() throws {
        let parser = try CSVParser(bytes: Array("a,b\r\n\"1\r\n2\",x\r\n3,y\r\n".utf8), name: "t.csv")
        var seen: [(String, Int, Int)] = []
        try parser.forEachRecord { record in seen.append((record.text(0), record.row, record.line)) }
        #expect(seen.map(\.0) == ["1\r\n2", "3"])
        #expect(seen.map(\.1) == [1, 2])
        #expect(seen.map(\.2) == [2, 4])
    }

    @Test func emptyFieldsAtTheEnd() throws {
        let (_, rows) = try records("a,b,c\n1,,\n,,")
        #expect(rows == [["1", "", ""], ["", "", ""]])
    }

    @Test func numbers() throws {
        let parser = try CSVParser(
            bytes: Array(
                "v\n 1.5 \n-2e3\n.25\n\nNA\nnan\nabc\ninf\n0x10\n12345678901234567890123\n1e-400\n\"7\"\n".utf8),
            name: "n.csv")
        var values: [String] = []
        try parser.forEachRecord { record in
            switch record.number(0) {
            case .value(let value): values.append("\(value)")
            case .missing: values.append("missing")
            case .invalid: values.append("invalid")
            }
        }
        #expect(
            values == [
                "1.5", "-2000.0", "0.25", "missing", "missing", "invalid", "invalid", "invalid",
                "1.2345678901234568e+22",
                "0.0", "7.0",
            ])
    }

    /// Every decimal the fast path takes rounds as `strtod` does.
    @Test func fastPathRoundsCorrectly() throws {
        var generator = SeededGenerator(seed: 3)
        var text = "v\n"
        var expected: [Double] = []
        for _ in 0..<2000 {
            let digits = String(UInt64.random(in: 0...999_999_999_999, using: &generator))
            let exponent = Int.random(in: -25...25, using: &generator)
            let cell = "\(digits.prefix(3)).\(digits.dropFirst(3))e\(exponent)"
            text += cell + "\n"
            expected.append(Double(cell)!)
        }
        let parser = try CSVParser(bytes: Array(text.utf8), name: "r.csv")
        var parsed: [Double] = []
        try parser.forEachRecord { record in
            if case .value(let value) = record.number(0) { parsed.append(value) }
        }
        #expect(parsed == expected)
    }

    @Test(arguments: [
        ("a,b\n1,\"2\n3,4\n", "line 2, field 2", "never closed"),
        ("a,b\n1,\"2\"x\n", "line 2, field 2", "closing quote"),
        ("a,b\n1,2\"3\n", "line 2, field 2", "unquoted field"),
        ("a,b\n\"x\ny\",1\n1,2,3\n", "line 4 (row 2)", "3 fields, the header has 2"),
        ("", "t.csv", "empty"),
        ("a,,b\n", "t.csv", "empty column name"),
        ("a,b,a\n", "t.csv", "'a' appears twice"),
    ])
    func malformedInput(_ text: String, _ place: String, _ problem: String) {
        expectMLError(.corruptData, containing: ["t.csv", place, problem]) { try records(text) }
    }
}
