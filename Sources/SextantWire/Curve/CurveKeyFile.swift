import Foundation

/// The key files `sextant keygen` writes: NAME.key holds the pair (mode 0600) and NAME.pub
/// one allow-list line, `<public key> NAME`, so `cat *.pub > allowed_clients` builds a list.
public enum CurveKeyFile {
    /// Writes DIRECTORY/NAME.key and DIRECTORY/NAME.pub; refuses to overwrite a key.
    public static func write(_ pair: CurveKeyPair, name: String, directory: URL) throws -> (secret: URL, public: URL) {
        try AllowList.validate(name: name)
        let secretURL = directory.appendingPathComponent("\(name).key")
        let publicURL = directory.appendingPathComponent("\(name).pub")
        for url in [secretURL, publicURL] where FileManager.default.fileExists(atPath: url.path) {
            throw WireError(.invalidArgument, "\(url.path) exists; remove it first to make a new key")
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let secretText = """
            # Sextant CURVE key pair of '\(name)'. Keep this file secret: it proves who you are.
            name = \(name)
            public-key = \(pair.publicKey.z85)
            secret-key = \(pair.secretKey.z85)

            """
        // Created 0600 from the start, so the secret is never readable by others.
        guard
            FileManager.default.createFile(
                atPath: secretURL.path, contents: Data(secretText.utf8), attributes: [.posixPermissions: 0o600])
        else { throw WireError(.system, "could not write \(secretURL.path)") }
        try "\(pair.publicKey.z85) \(name)\n".write(to: publicURL, atomically: true, encoding: .utf8)
        return (secretURL, publicURL)
    }

    /// Reads a key pair file; the public key in it must match its secret key.
    public static func readPair(at path: String) throws(WireError) -> CurveKeyPair {
        let fields = try keyValues(at: path)
        guard let secretText = fields["secret-key"] else {
            throw WireError(
                .invalidArgument,
                "\(path) has no secret-key line: give the .key file that sextant keygen wrote, not the .pub")
        }
        let pair: CurveKeyPair
        do {
            pair = try CurveKeyPair(secretKey: try CurveKey(z85: secretText))
        } catch {
            throw WireError(.invalidArgument, "\(path): \(error.message)")
        }
        if let publicText = fields["public-key"], publicText != pair.publicKey.z85 {
            throw WireError(.invalidArgument, "\(path): its public-key does not belong to its secret-key")
        }
        return pair
    }

    /// Reads a public key from a .pub file (`<key> NAME`) or a .key file.
    public static func readPublicKey(at path: String) throws(WireError) -> CurveKey {
        let text = try contents(of: path)
        if text.contains("secret-key") || text.contains("public-key") {
            return try readPair(at: path).publicKey
        }
        guard let first = text.split(whereSeparator: \.isWhitespace).first else {
            throw WireError(.invalidArgument, "\(path) is empty: expected a CURVE public key")
        }
        do {
            return try CurveKey(z85: first)
        } catch {
            throw WireError(.invalidArgument, "\(path): \(error.message)")
        }
    }

    /// Whether a secret key file can be read by other users (its mode allows group or others).
    public static func isReadableByOthers(_ path: String) -> Bool {
        let mode = (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? 0
        return mode & 0o077 != 0
    }

    private static func keyValues(at path: String) throws(WireError) -> [String: String] {
        var fields: [String: String] = [:]
        for line in try contents(of: path).split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#"), let equals = trimmed.firstIndex(of: "=") else { continue }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
            fields[key] = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    static func contents(of path: String) throws(WireError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
            throw WireError(.invalidArgument, "key file \(path) \(reason)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
