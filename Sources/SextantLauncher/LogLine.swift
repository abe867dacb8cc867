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
        // Metadata pairs come first; the source module in brackets ends them. A value may
        // hold spaces (`metrics=accuracy 0.9780  loss 0.0595`): words up to the next
        // `key=` belong to it.
        var lastKey: String?
        while let space = rest.firstIndex(of: " "), !rest.hasPrefix("[") {
            let word = rest[..<space]
            if let equals = word.firstIndex(of: "="), equals > word.startIndex,
                word[..<equals].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." })
            {
                let key = String(word[..<equals])
                metadata[key] = String(word[word.index(after: equals)...])
                lastKey = key
            } else if let key = lastKey {
                metadata[key]! += " " + word
            } else {
                break
            }
            rest = rest[rest.index(after: space)...]
        }
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            rest = rest[rest.index(after: close)...].drop(while: { $0 == " " })
        }
        message = String(rest)
    }
}
