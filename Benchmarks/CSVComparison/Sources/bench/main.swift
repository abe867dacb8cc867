import CSV
import Foundation
import Ours
import SwiftCSV

// Usage: csv-comparison FILE ours|swiftcsv|csv.swift
// Reads FILE three times with one parser, converting every field to Double, and prints each
// time; then parses an RFC 4180 sample (byte order mark, quoted comma, doubled quote, CRLF
// inside a quoted field, empty field, no final line break) and says whether the fields match.
let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    print("usage: csv-comparison FILE ours|swiftcsv|csv.swift")
    exit(2)
}
let (path, parser) = (arguments[1], arguments[2])
let url = URL(fileURLWithPath: path)
let sample = "\u{FEFF}h1,h2,h3,h4\r\na,\"b,c\",\"d\"\"e\",\"f\r\ng\"\r\n1,,3,4"
let expectedHeader = ["h1", "h2", "h3", "h4"]
let expectedRows = [["a", "b,c", "d\"e", "f\r\ng"], ["1", "", "3", "4"]]

let clock = ContinuousClock()
for _ in 0..<3 {
    var total = 0.0
    var count = 0
    let start = clock.now
    switch parser {
    case "ours":
        let csv = try CSVParser(contentsOf: url)
        try csv.forEachRecord { record in
            for column in csv.header.indices {
                if case .value(let value) = record.number(column) {
                    total += value
                    count += 1
                }
            }
        }
    case "swiftcsv":
        let csv = try SwiftCSV.CSV<Enumerated>(url: url, delimiter: .comma, loadColumns: false)
        for row in csv.rows {
            for field in row {
                if let value = Double(field) {
                    total += value
                    count += 1
                }
            }
        }
    case "csv.swift":
        let reader = try CSVReader(stream: InputStream(url: url)!, hasHeaderRow: true)
        while let row = reader.next() {
            for field in row {
                if let value = Double(field) {
                    total += value
                    count += 1
                }
            }
        }
    default:
        print("unknown parser \(parser)")
        exit(2)
    }
    print("\(parser): \(count) numbers, sum \(total), \(clock.now - start)")
}

var header: [String] = []
var rows: [[String]] = []
switch parser {
case "ours":
    let csv = try CSVParser(bytes: Array(sample.utf8), name: "sample")
    header = csv.header
    try csv.forEachRecord { record in rows.append(csv.header.indices.map { record.text($0) }) }
case "swiftcsv":
    let csv = try SwiftCSV.CSV<Enumerated>(string: sample, delimiter: .comma, loadColumns: false)
    (header, rows) = (csv.header, csv.rows)
default:
    let reader = try CSVReader(string: sample, hasHeaderRow: true)
    header = reader.headerRow ?? []
    while let row = reader.next() { rows.append(row) }
}
print("\(parser): RFC 4180 fields \(rows == expectedRows ? "right" : "WRONG: \(rows)")")
print("\(parser): header \(header == expectedHeader ? "right" : "WRONG: \(header.map { Array($0.unicodeScalars) })")")
