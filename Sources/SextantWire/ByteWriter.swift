/// Appends little-endian fixed-width values and length-prefixed strings to a byte array:
/// the metadata encoding of every wire message.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func write<Value: FixedWidthInteger>(_ value: Value) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func write(_ value: Bool) { write(UInt8(value ? 1 : 0)) }
    public mutating func write(_ value: Float) { write(value.bitPattern) }
    public mutating func write(_ value: Double) { write(value.bitPattern) }

    /// A UInt32 byte count followed by the UTF-8 bytes.
    public mutating func write(_ value: String) {
        let utf8 = Array(value.utf8)
        write(UInt32(clamping: utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// A UInt32 element count followed by the values.
    /// A length-prefixed byte string.
    public mutating func write(bytes: [UInt8]) {
        write(UInt32(bytes.count))
        self.bytes.append(contentsOf: bytes)
    }

    public mutating func write(_ values: [UInt32]) {
        write(UInt32(clamping: values.count))
        for value in values { write(value) }
    }

    /// A presence byte (0 or 1) followed by the value if present.
    public mutating func write(_ value: UInt64?) {
        write(value != nil)
        if let value { write(value) }
    }
}
