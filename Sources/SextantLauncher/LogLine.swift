/// A log line of a Sextant process as swift-log's text handler writes it:
/// `TIMESTAMP LEVEL LABEL: key=value key=value [MODULE] message`.
struct LogLine: Equatable {
    var level: String
    var message: String
    var metadata: [String: String]

    init?(parsing line: Substring) {
        let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
        guard parts.count == 4, parts[2].hasSuffix(":") else { return nil }
        level = String(parts[1])
        var rest = parts[3]
        metadata = [:]
        // Metadata pairs come first; the source module in brackets ends them.
        while let space = rest.firstIndex(of: " "), !rest.hasPrefix("[") {
            let pair = rest[..<space]
            guard let equals = pair.firstIndex(of: "=") else { break }
            metadata[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            rest = rest[rest.index(after: space)...]
        }
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            rest = rest[rest.index(after: close)...].drop(while: { $0 == " " })
        }
        message = String(rest)
    }
}
