/// The clients a server admits: one `<Z85 public key> NAME [samples=N]` line per client
/// (blank lines and `#` comments allowed). The name becomes the client's authenticated
/// identity; `samples=N`, when the operator knows it, is the most training samples that
/// client's claims are believed (docs/design.md 10).
public struct AllowList: Sendable, Equatable {
    public private(set) var names: [CurveKey: String] = [:]
    /// The same names as a set: checked on every message a client sends.
    public private(set) var identities: Set<String> = []
    /// Sample counts the operator declared, by name.
    package private(set) var declared: [String: Int] = [:]

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
            if let comment = fields.dropFirst().firstIndex(where: { $0.hasPrefix("#") }) {
                fields = Array(fields[..<comment])
            }
            guard !fields.isEmpty else { continue }
            guard fields.count == 2 || fields.count == 3 else {
                throw WireError(
                    .invalidArgument,
                    "\(source) line \(number): expected '<public key> NAME [samples=N]', got '\(rawLine.prefix(80))'")
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
                throw WireError(
                    .invalidArgument, "\(source) line \(number): the name '\(name)' is on line \(previous) too")
            }
            if fields.count == 3 {
                do {
                    declared[name] = try Self.declaredSamples(String(fields[2]))
                } catch {
                    throw WireError(.invalidArgument, "\(source) line \(number): \(error.message)")
                }
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

    /// The sample count the operator declared for `name`, if any.
    package func declaredSamples(of name: String) -> Int? { declared[name] }

    /// `samples=N` with N a positive decimal integer.
    static func declaredSamples(_ field: String) throws(WireError) -> Int {
        let prefix = "samples="
        guard field.hasPrefix(prefix), let count = Int(field.dropFirst(prefix.count)), count > 0,
            field.dropFirst(prefix.count).allSatisfy(\.isASCII)
        else {
            throw WireError(
                .invalidArgument,
                "'\(field.prefix(40))' is not a sample count; write samples=N with N a positive integer")
        }
        return count
    }

    /// Names are identities in logs, checkpoints and metrics: keep them plain.
    static func validate(name: String) throws(WireError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-".utf8)
        guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy(allowed.contains) else {
            throw WireError(.invalidArgument, "'\(name)' is not a valid client name (1 to 64 of A-Z a-z 0-9 . _ -)")
        }
    }
}
