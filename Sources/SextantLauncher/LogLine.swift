/// A log line of a Sextant process as swift-log's text handler writes it:
/// `TIMESTAMP LEVEL LABEL: key=value key=value [MODULE] message`.
///
/// Parsed on the line's UTF-8 bytes: the launcher reads every line of every child, four or
/// more per client and round, so a parse by `Character` was a visible share of a
/// many-client run's CPU (README, "Measured on this machine").
struct LogLine: Equatable {
    var level: String
    var message: String
    var metadata: [String: String]

    init?(parsing line: Substring) {
        var copy = line
        let parsed = copy.withUTF8 { Self.parse(bytes: $0) }
        guard let parsed else { return nil }
        self = parsed
    }

    private init(level: String, message: String, metadata: [String: String]) {
        self.level = level
        self.message = message
        self.metadata = metadata
    }

    private static let space = UInt8(ascii: " ")

    private static func text(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// The index of the first `byte` in `bytes[from..<to]`, if any.
    private static func find(_ byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int? {
        var index = from
        while index < to {
            if bytes[index] == byte { return index }
            index += 1
        }
        return nil
    }

    /// A key is letters, digits, `_` and `.`; bytes of non-ASCII letters count as letters.
    private static func isKey(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        guard !range.isEmpty else { return false }
        for index in range {
            let byte = bytes[index]
            let isKeyByte =
                byte >= 0x80 || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: ".")
            if !isKeyByte { return false }
        }
        return true
    }

    private static func parse(bytes: UnsafeBufferPointer<UInt8>) -> LogLine? {
        // The first three words (runs of spaces between them), then the rest.
        var level = 0..<0
        var label = 0..<0
        var index = 0
        for word in 0..<3 {
            while index < bytes.count, bytes[index] == space { index += 1 }
            let start = index
            while index < bytes.count, bytes[index] != space { index += 1 }
            guard index > start else { return nil }
            if word == 1 { level = start..<index }
            if word == 2 { label = start..<index }
        }
        while index < bytes.count, bytes[index] == space { index += 1 }
        guard index < bytes.count, bytes[label.upperBound - 1] == UInt8(ascii: ":") else { return nil }
        var rest = index
        var metadata: [String: String] = [:]
        // Metadata pairs come first; the source module in brackets ends them. A value may
        // hold spaces (`metrics=accuracy 0.9780  loss 0.0595`): words up to the next
        // `key=` belong to it.
        var lastKey: String?
        while rest < bytes.count, bytes[rest] != UInt8(ascii: "["),
            let space = find(space, in: bytes, from: rest, to: bytes.count)
        {
            if let equals = find(UInt8(ascii: "="), in: bytes, from: rest, to: space), equals > rest,
                isKey(bytes, rest..<equals)
            {
                let key = text(bytes, rest..<equals)
                metadata[key] = text(bytes, (equals + 1)..<space)
                lastKey = key
            } else if let key = lastKey {
                metadata[key]! += " " + text(bytes, rest..<space)
            } else {
                break
            }
            rest = space + 1
        }
        if rest < bytes.count, bytes[rest] == UInt8(ascii: "["),
            let close = find(UInt8(ascii: "]"), in: bytes, from: rest, to: bytes.count)
        {
            rest = close + 1
            while rest < bytes.count, bytes[rest] == space { rest += 1 }
        }
        return LogLine(level: text(bytes, level), message: text(bytes, rest..<bytes.count), metadata: metadata)
    }
}
