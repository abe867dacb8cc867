/// The clients a server admits: one `<Z85 public key> NAME` line per client (blank lines
/// and `#` comments allowed). The name becomes the client's authenticated identity.
public struct AllowList: Sendable, Equatable {
    public private(set) var names: [CurveKey: String] = [:]
    /// The same names as a set: checked on every message a client sends.
    public private(set) var identities: Set<String> = []

    public init() {}

    /// Parses an allow-list; a bad line is an error naming its line number.
    public init(text: String, source: String = "allow-list") throws(WireError) {
        var seenNames: [String: Int] = [:]
        var seenKeys: [CurveKey: Int] = [:]
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            var fields = rawLine.split(whereSeparator: \.isWhitespace)
            // '#' is a Z85 character, so a comment is a field starting with '#' that is
            // not a key: a whole comment line, or anything after the name.
            if let first = fields.first, first.hasPrefix("#"), (try? CurveKey(z85: first)) == nil { continue }
            if let comment = fields.dropFirst().firstIndex(where: { $0.hasPrefix("#") }) { fields = Array(fields[..<comment]) }
            guard !fields.isEmpty else { continue }
            guard fields.count == 2 else {
                throw WireError(.invalidArgument, "\(source) line \(number): expected '<public key> NAME', got '\(rawLine.prefix(80))'")
            }
            let key: CurveKey
            do {
                key = try CurveKey(z85: fields[0])
                try Self.validate(name: String(fields[1]))
            } catch {
                throw WireError(.invalidArgument, "\(source) line \(number): \(error.message)")
            }
            let name = String(fields[1])
            if let previous = seenKeys[key] {
                throw WireError(.invalidArgument, "\(source) line \(number): the same key is on line \(previous)")
            }
            if let previous = seenNames[name] {
                throw WireError(.invalidArgument, "\(source) line \(number): the name '\(name)' is on line \(previous) too")
            }
            seenKeys[key] = number
            seenNames[name] = number
            names[key] = name
            identities.insert(name)
        }
    }

    /// Reads an allow-list file.
    public init(contentsOf path: String) throws(WireError) {
        try self.init(text: try CurveKeyFile.contents(of: path), source: path)
    }

    public var count: Int { names.count }

    public func name(of key: CurveKey) -> String? { names[key] }

    public func contains(name: String) -> Bool { identities.contains(name) }

    /// Names are identities in logs, checkpoints and metrics: keep them plain.
    static func validate(name: String) throws(WireError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-".utf8)
        guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy(allowed.contains) else {
            throw WireError(.invalidArgument, "'\(name)' is not a valid client name (1 to 64 of A-Z a-z 0-9 . _ -)")
        }
    }
}
