import Foundation

/// The JSON text stored in `metrics` and `fields` columns. Sorted keys keep the text
/// stable; NaN and infinities (a diverged loss) are spelled out, since JSON has none.
enum StoreJSON {
    static func encode<Value: Encodable>(_ value: Value) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Bytes a checkpoint's metrics text takes at least: metrics added later (the
    /// evaluation's, the sites') then fit in the same length (``padded(_:to:)``).
    static let metricsReserve = 1024

    /// `text` with trailing spaces up to `length` bytes (JSON allows them). A row whose
    /// metrics keep their length is overwritten in place: SQLite then writes only the page
    /// that holds them, not the row's 0.8 MB of parameters again (docs/design.md 6).
    static func padded(_ text: String, to length: Int) -> String {
        let missing = length - text.utf8.count
        return missing > 0 ? text + String(repeating: " ", count: missing) : text
    }

    static func decode<Value: Decodable>(_ type: Value.Type, from text: String) throws -> Value {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try decoder.decode(type, from: Data(text.utf8))
    }
}
