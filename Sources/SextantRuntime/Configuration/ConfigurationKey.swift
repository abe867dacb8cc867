import Foundation

/// One key of a configuration section, declared once: its YAML name, its default (the value,
/// and the text configs/README.md shows for it) and the range its value must lie in.
///
/// A section builds its ``KeySchema`` from its declarations and decodes through them, so
/// the name, the default and the range check live in one place; a test holds the README's
/// table to the same declarations.
///
/// `Sendable`: immutable, its check a `@Sendable` function.
struct ConfigurationKey<Value: Decodable & Sendable>: Sendable {
    let name: String
    /// The value when the key is absent (nil: none, the setting is unset).
    let defaultValue: Value?
    /// The default as configs/README.md writes it.
    let defaultText: String
    /// nil when a value is acceptable, else what is allowed ("it must be ...").
    let check: @Sendable (Value) -> String?
    let schema: KeySchema

    init(
        _ name: String, default defaultValue: Value? = nil, shown defaultText: String,
        schema: KeySchema = .value, check: @escaping @Sendable (Value) -> String? = { _ in nil }
    ) {
        self.name = name
        self.defaultValue = defaultValue
        self.defaultText = defaultText
        self.check = check
        self.schema = schema
    }

    /// The declaration without its type, for schemas and the README check.
    var declared: DeclaredKey { DeclaredKey(name: name, defaultText: defaultText, schema: schema) }
}

/// A ``ConfigurationKey`` without its value type.
///
/// `Sendable`: a plain value.
struct DeclaredKey: Sendable {
    let name: String
    let defaultText: String
    let schema: KeySchema
}

extension KeySchema {
    /// The mapping of a section whose keys are `declared`.
    static func section(_ declared: [DeclaredKey]) -> KeySchema {
        .map(Dictionary(uniqueKeysWithValues: declared.map { ($0.name, $0.schema) }))
    }
}

/// A coding key named at run time, from a ``ConfigurationKey``.
struct NamedKey: CodingKey {
    let stringValue: String
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}

/// The usual checks, with the reason the README gives.
enum KeyCheck {
    /// A finite number > 0.
    static func positive(_ reason: String = "") -> @Sendable (Double) -> String? {
        { value in
            value > 0 && value.isFinite
                ? nil : "it must be a finite number > 0" + (reason.isEmpty ? "" : " (\(reason))")
        }
    }

    /// A number in the open interval (0, 1).
    static func unitInterval(_ reason: String = "") -> @Sendable (Double) -> String? {
        { value in value > 0 && value < 1 ? nil : "it must lie in (0, 1)" + (reason.isEmpty ? "" : " (\(reason))") }
    }

    /// An integer > 0.
    static let positiveInteger: @Sendable (Int) -> String? = { $0 > 0 ? nil : "it must be a positive integer" }

    /// One of `Choice`'s raw values.
    static func oneOf<Choice: RawRepresentable & CaseIterable>(_: Choice.Type) -> @Sendable (String) -> String?
    where Choice.RawValue == String {
        let names = Choice.allCases.map(\.rawValue)
        return { names.contains($0) ? nil : "use " + ListFormat.or(names) }
    }
}

enum ListFormat {
    /// "a, b or c".
    static func or(_ items: [String]) -> String {
        items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " or " + items[items.count - 1]
    }
}

extension KeyedDecodingContainer where Key == NamedKey {
    /// The full dotted name of `name` in this container ("privacy.record_level.delta").
    func path(_ name: String) -> String {
        (codingPath.map(\.stringValue) + [name]).joined(separator: ".")
    }

    /// The key's value, or its default when absent. A value outside its range is refused
    /// with a message naming the key, the value and what is allowed.
    func read<Value>(_ key: ConfigurationKey<Value>) throws -> Value? {
        guard let value = try decodeIfPresent(Value.self, forKey: NamedKey(key.name)) else { return key.defaultValue }
        if let problem = key.check(value) {
            throw invalid(path(key.name), value is String ? "'\(value)'" : "\(value)", problem)
        }
        return value
    }

    /// A key whose value names a case of `Choice` (checked by ``KeyCheck/oneOf(_:)``).
    func read<Choice: RawRepresentable & CaseIterable>(_ key: ConfigurationKey<String>, as _: Choice.Type) throws
        -> Choice? where Choice.RawValue == String
    {
        try read(key).flatMap(Choice.init(rawValue:))
    }

    /// True when the key is written in the file.
    func has<Value>(_ key: ConfigurationKey<Value>) -> Bool { contains(NamedKey(key.name)) }
}
