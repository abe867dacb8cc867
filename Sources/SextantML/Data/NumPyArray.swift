import Foundation

/// One NumPy array from an `.npy` file (format versions 1, 2 and 3): its shape and its values
/// as `Float`. Reads little-endian (or single-byte) float32, float64, uint8, int8, int16,
/// int32, int64 and bool arrays in C order; anything else is refused with one line that
/// says how to save it instead.
package struct NumPyArray: Sendable, Equatable {
    package enum DataType: String, Sendable, CaseIterable {
        case float32 = "f4", float64 = "f8", uint8 = "u1", int8 = "i1", int16 = "i2", int32 = "i4", int64 = "i8"
        case bool = "b1"

        var size: Int { Int(rawValue.dropFirst())! }
        /// Integers and booleans: values that can be class labels as they are.
        package var isIntegral: Bool { self != .float32 && self != .float64 }
    }

    package var shape: [Int]
    package var dataType: DataType
    package var values: [Float]

    package init(shape: [Int], dataType: DataType, values: [Float]) {
        self.shape = shape
        self.dataType = dataType
        self.values = values
    }

    /// Parses the bytes of an `.npy` file; `name` appears in errors.
    package static func parse(_ bytes: [UInt8], name: String) throws -> NumPyArray {
        func fail(_ problem: String, _ code: SextantMLError.Code = .corruptData) -> SextantMLError {
            SextantMLError(code: code, "\(name): \(problem)")
        }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw fail("not a NumPy .npy file (bad magic)") }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("the .npy header is truncated") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw fail(".npy format version \(major) is not supported (1, 2 or 3)", .unsupportedFormat)
        }
        guard headerStart + headerLength <= bytes.count else { throw fail("the .npy header is truncated") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard let descr = value(of: "descr", in: header), let order = value(of: "fortran_order", in: header),
            let shapeText = value(of: "shape", in: header)
        else { throw fail("the .npy header has no descr, fortran_order or shape: \(header.prefix(80))") }
        let typeCode = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
        let byteOrder = typeCode.first
        guard let dataType = DataType(rawValue: String(typeCode.dropFirst())), byteOrder.map("<|=".contains) == true
        else {
            let supported = DataType.allCases.map { "\($0)" }.joined(separator: ", ")
            throw fail(
                "dtype '\(typeCode)' is not supported (\(supported), little-endian); convert it with .astype(np.float32)",
                .unsupportedFormat)
        }
        guard order.trimmingCharacters(in: .whitespaces) == "False" else {
            throw fail("the array is in Fortran order; save np.ascontiguousarray(array) instead", .unsupportedFormat)
        }
        let shape = try shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .map { text -> Int in
                guard let dimension = Int(text), dimension >= 0 else { throw fail("bad shape (\(shapeText))") }
                return dimension
            }
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw fail("the shape \(shape) is too large") }
            count = product
        }
        let dataStart = headerStart + headerLength
        guard bytes.count - dataStart == count * dataType.size else {
            throw fail(
                "the header announces \(count) values of \(dataType) (shape \(shape)) but the file holds \(bytes.count - dataStart) bytes of data"
            )
        }
        var values = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            let data = UnsafeRawBufferPointer(rebasing: raw[dataStart...])
            values.withUnsafeMutableBufferPointer { out in
                func convert<T>(_: T.Type, _ transform: (T) -> Float) {
                    for i in 0..<count {
                        out[i] = transform(data.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
                    }
                }
                switch dataType {
                case .float32: convert(UInt32.self) { Float(bitPattern: UInt32(littleEndian: $0)) }
                case .float64: convert(UInt64.self) { Float(Double(bitPattern: UInt64(littleEndian: $0))) }
                case .uint8, .bool: convert(UInt8.self) { Float($0) }
                case .int8: convert(Int8.self) { Float($0) }
                case .int16: convert(Int16.self) { Float(Int16(littleEndian: $0)) }
                case .int32: convert(Int32.self) { Float(Int32(littleEndian: $0)) }
                case .int64: convert(Int64.self) { Float(Int64(littleEndian: $0)) }
                }
            }
        }
        return NumPyArray(shape: shape, dataType: dataType, values: values)
    }

    /// The text after `'key':` in a Python dict literal, up to the next top-level comma.
    private static func value(of key: String, in header: String) -> String? {
        guard let keyRange = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\"") else { return nil }
        var rest = header[keyRange.upperBound...].drop { $0 == " " }
        guard rest.first == ":" else { return nil }
        rest = rest.dropFirst()
        var depth = 0
        var end = rest.startIndex
        while end < rest.endIndex {
            let c = rest[end]
            if c == "(" { depth += 1 }
            if c == ")" { depth -= 1 }
            if (c == "," && depth == 0) || c == "}" { break }
            end = rest.index(after: end)
        }
        return String(rest[rest.startIndex..<end]).trimmingCharacters(in: .whitespaces)
    }
}
