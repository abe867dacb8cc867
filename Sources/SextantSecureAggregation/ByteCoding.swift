/// Little-endian writing of the protocol's fixed-width fields.
package enum ByteWriter {
    @inline(__always)
    package static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}

/// Reads fixed-width fields from received bytes; every read checks the remaining length, so a
/// short or lying message is an error, never a trap.
package struct ByteReader {
    private let bytes: [UInt8]
    private(set) var offset: Int = 0

    package init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    package var remaining: Int { bytes.count - offset }

    package mutating func read<T: FixedWidthInteger>(_: T.Type) throws(SecureAggregationError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else {
            throw SecureAggregationError(.malformedMessage, "the message ends inside a field at byte \(offset)")
        }
        var value: T = 0
        for index in 0..<size { value |= T(bytes[offset + index]) << (8 * index) }
        offset += size
        return value
    }

    package mutating func readBytes(_ count: Int) throws(SecureAggregationError) -> [UInt8] {
        guard count >= 0, remaining >= count else {
            throw SecureAggregationError(
                .malformedMessage, "the message ends inside a \(count)-byte field at byte \(offset)")
        }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// A count of items of `itemBytes` each, checked against what is left before anything is
    /// allocated for them.
    package mutating func readCount(itemBytes: Int) throws(SecureAggregationError) -> Int {
        let count = Int(try read(UInt32.self))
        guard count <= remaining / max(1, itemBytes) else {
            throw SecureAggregationError(
                .malformedMessage, "a count of \(count) items of \(itemBytes) bytes in \(remaining) remaining bytes")
        }
        return count
    }

    /// Ring values, straight from the bytes.
    package mutating func readWords(_ count: Int) throws(SecureAggregationError) -> [UInt32] {
        guard remaining >= count * 4 else {
            throw SecureAggregationError(.malformedMessage, "\(count) values announced, \(remaining / 4) present")
        }
        var words = [UInt32](repeating: 0, count: count)
        words.withUnsafeMutableBytes { destination in
            bytes.withUnsafeBytes { source in
                destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<offset + count * 4]))
            }
        }
        offset += count * 4
        #if _endian(big)
            words = words.map { UInt32(littleEndian: $0) }
        #endif
        return words
    }

    package func expectEnd() throws(SecureAggregationError) {
        guard remaining == 0 else {
            throw SecureAggregationError(.malformedMessage, "\(remaining) bytes after the end of the message")
        }
    }
}
