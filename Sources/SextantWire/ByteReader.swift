/// Reads what `ByteWriter` wrote, checking every length against the bytes left: any
/// input either decodes or throws a `malformed` error naming the field.
public struct ByteReader: Sendable {
    private let bytes: [UInt8]
    public private(set) var offset = 0

    /// Longest string accepted, in UTF-8 bytes.
    public var maxStringBytes: Int

    public init(_ bytes: [UInt8], maxStringBytes: Int = 4096) {
        self.bytes = bytes
        self.maxStringBytes = maxStringBytes
    }

    public var remaining: Int { bytes.count - offset }

    private mutating func take(_ count: Int, for field: String) throws(WireError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else {
            throw WireError(
                .malformed, "metadata truncated reading \(field): need \(count) bytes, \(remaining) left")
        }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    public mutating func read<Value: FixedWidthInteger>(
        _ type: Value.Type, field: String
    ) throws(WireError) -> Value {
        let raw = try take(MemoryLayout<Value>.size, for: field)
        return Value(littleEndian: raw.withUnsafeBytes { $0.loadUnaligned(as: Value.self) })
    }

    public mutating func readBool(field: String) throws(WireError) -> Bool {
        switch try read(UInt8.self, field: field) {
        case 0: return false
        case 1: return true
        case let other: throw WireError(.malformed, "\(field) must be 0 or 1, got \(other)")
        }
    }

    public mutating func readFloat(field: String) throws(WireError) -> Float {
        Float(bitPattern: try read(UInt32.self, field: field))
    }

    public mutating func readDouble(field: String) throws(WireError) -> Double {
        Double(bitPattern: try read(UInt64.self, field: field))
    }

    public mutating func readString(field: String) throws(WireError) -> String {
        let length = Int(try read(UInt32.self, field: field))
        guard length <= maxStringBytes else {
            throw WireError(.malformed, "\(field) is \(length) bytes, longer than the limit of \(maxStringBytes)")
        }
        let raw = try take(length, for: field)
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw WireError(.malformed, "\(field) is not valid UTF-8")
        }
        return text
    }

    /// A length-prefixed byte string of at most `maxCount` bytes.
    public mutating func readBytes(field: String, maxCount: Int) throws(WireError) -> [UInt8] {
        let count = Int(try read(UInt32.self, field: field))
        guard count <= maxCount else {
            throw WireError(.malformed, "\(field) is \(count) bytes, more than the limit of \(maxCount)")
        }
        return Array(try take(count, for: field))
    }

    public mutating func readUInt32Array(field: String, maxCount: Int) throws(WireError) -> [UInt32] {
        let count = Int(try read(UInt32.self, field: field))
        guard count <= maxCount else {
            throw WireError(.malformed, "\(field) has \(count) entries, more than the limit of \(maxCount)")
        }
        let raw = try take(count * 4, for: field)
        return raw.withUnsafeBytes { buffer in
            (0..<count).map { UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) }
        }
    }

    public mutating func readOptionalUInt64(field: String) throws(WireError) -> UInt64? {
        try readBool(field: "\(field) presence") ? try read(UInt64.self, field: field) : nil
    }

    /// Fails if bytes are left over: a frame must hold exactly one message's metadata.
    public func expectEnd(of message: String) throws(WireError) {
        guard remaining == 0 else {
            throw WireError(.malformed, "\(message) metadata has \(remaining) unexpected trailing bytes")
        }
    }
}
