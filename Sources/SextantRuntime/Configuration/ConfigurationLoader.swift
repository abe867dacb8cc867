import Foundation
import Yams

/// Reads a YAML configuration into a Codable type, turning every problem into one message
/// that names the file, the key, the value and what is allowed.
///
/// A configuration file is input like any other (docs/design.md 10): one
/// larger than ``maximumBytes``, or whose anchors and aliases expand to more than
/// ``maximumNodes`` values, is refused before anything expands it.
public enum ConfigurationLoader {
    /// The largest configuration file read, in bytes (1 MiB; real ones are a few KiB).
    package static let maximumBytes = 1 << 20
    /// The most values (mappings, lists, scalars) a configuration may expand to once every
    /// alias is followed: an alias bomb of a few hundred bytes would otherwise grow to GBs.
    package static let maximumNodes = 50_000

    public static func load<T: Decodable>(_ type: T.Type, from url: URL, allowedKeys: KeySchema) throws -> T {
        if let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int {
            try checkSize(size, name: url.path)
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw RuntimeError(.invalidConfiguration, "\(url.path): configuration file not found or unreadable")
        }
        try checkSize(data.count, name: url.path)
        guard let text = String(data: data, encoding: .utf8) else {
            throw RuntimeError(.invalidConfiguration, "\(url.path): configuration is not UTF-8 text")
        }
        return try decode(type, from: text, name: url.path, allowedKeys: allowedKeys)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from text: String, name: String, allowedKeys: KeySchema)
        throws -> T
    {
        try checkSize(text.utf8.count, name: name)
        let tree: Any?
        do {
            if let root = try Yams.compose(yaml: text) { try checkExpansion(of: root, name: name) }
            tree = try Yams.load(yaml: text)
        } catch let error as RuntimeError {
            throw error
        } catch {
            throw RuntimeError(.invalidConfiguration, "\(name): not valid YAML: \(error)")
        }
        if let tree {
            try allowedKeys.check(tree, path: [], name: name)
        }
        do {
            return try YAMLDecoder().decode(type, from: text)
        } catch let error as DecodingError {
            // Yams wraps what a section's decoder throws (a value out of its range, named by
            // the section) as corrupted data; that message is the one to show.
            if case .dataCorrupted(let context) = error, let refusal = context.underlyingError as? RuntimeError {
                throw RuntimeError(.invalidConfiguration, "\(name): \(refusal.message)")
            }
            throw RuntimeError(.invalidConfiguration, "\(name): \(describe(error))")
        } catch let error as RuntimeError {
            throw RuntimeError(.invalidConfiguration, "\(name): \(error.message)")
        }
    }

    private static func checkSize(_ bytes: Int, name: String) throws {
        guard bytes <= maximumBytes else {
            throw RuntimeError(
                .invalidConfiguration,
                "\(name): the configuration is \(bytes) bytes, more than the \(maximumBytes) bytes a configuration may have; is this the right file?"
            )
        }
    }

    /// Counts the values of `root` with every alias followed, stopping at the limit: the
    /// parsed tree shares each anchored value, so only the count could blow up, not memory.
    private static func checkExpansion(of root: Node, name: String) throws {
        var count = 0
        func visit(_ node: Node) throws {
            count += 1
            guard count <= maximumNodes else {
                throw RuntimeError(
                    .invalidConfiguration,
                    "\(name): expands to more than \(maximumNodes) values through its anchors and aliases (&name, *name); a configuration needs a few hundred: remove the repeated aliases"
                )
            }
            switch node {
            case .mapping(let mapping):
                for (key, value) in mapping {
                    try visit(key)
                    try visit(value)
                }
            case .sequence(let sequence):
                for element in sequence { try visit(element) }
            case .scalar, .alias:
                break
            }
        }
        try visit(root)
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
                .replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "key '\(path(context.codingPath))' must be \(typeName(type)): \(context.debugDescription)"
        case .valueNotFound(let type, let context):
            return "key '\(path(context.codingPath))' needs a value (\(typeName(type)))"
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return "missing key '\(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)'"
        case .dataCorrupted(let context):
            return "key '\(path(context.codingPath))': \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is UInt64.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        default: "\(type)"
        }
    }
}

/// The keys a configuration may contain, so that a misspelt key is an error, not a
/// silently ignored setting.
public indirect enum KeySchema: Sendable {
    /// Any value.
    case value
    case map([String: KeySchema])
    case list(KeySchema)

    func check(_ node: Any, path: [String], name: String) throws {
        switch self {
        case .value:
            return
        case .map(let keys):
            guard let dictionary = node as? [String: Any] else {
                if node is NSNull { return }
                throw RuntimeError(
                    .invalidConfiguration, "\(name): key '\(path.joined(separator: "."))' must be a mapping")
            }
            for (key, value) in dictionary {
                guard let schema = keys[key] else {
                    let location = (path + [key]).joined(separator: ".")
                    throw RuntimeError(
                        .invalidConfiguration,
                        "\(name): unknown key '\(location)'; allowed here: \(keys.keys.sorted().joined(separator: ", "))"
                    )
                }
                try schema.check(value, path: path + [key], name: name)
            }
        case .list(let element):
            guard let array = node as? [Any] else {
                throw RuntimeError(
                    .invalidConfiguration, "\(name): key '\(path.joined(separator: "."))' must be a list")
            }
            for (index, value) in array.enumerated() {
                try element.check(value, path: path + ["[\(index)]"], name: name)
            }
        }
    }
}
