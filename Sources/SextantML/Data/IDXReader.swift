import Foundation

/// Reads IDX files (the format of MNIST and Fashion-MNIST), gzip-compressed or not.
package enum IDXReader {
    /// An IDX array of unsigned bytes with its dimensions.
    package struct Array: Sendable {
        package var dimensions: [Int]
        package var values: [UInt8]
    }

    package static func read(contentsOf url: URL) throws -> Array {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            let exists = FileManager.default.fileExists(atPath: url.path)
            throw SextantMLError(
                code: .fileNotFound, exists ? "\(url.path): cannot read the file" : "\(url.path): no such file")
        }
        return try parse([UInt8](data), name: url.lastPathComponent)
    }

    /// Parses IDX bytes (decompressing them first if they are gzip); `name` appears in errors.
    package static func parse(_ raw: [UInt8], name: String) throws -> Array {
        let bytes = Gzip.isCompressed(raw) ? try Gzip.decompress(raw, name: name) : raw
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else {
            throw SextantMLError(code: .unsupportedFormat, "\(name): not an IDX file (bad magic number)")
        }
        guard bytes[2] == 0x08 else {
            throw SextantMLError(
                code: .unsupportedFormat,
                "\(name): IDX element type 0x\(String(bytes[2], radix: 16)) is not supported (only unsigned bytes, 0x08)"
            )
        }
        let rank = Int(bytes[3])
        guard rank >= 1, bytes.count >= 4 + 4 * rank else {
            throw SextantMLError(code: .corruptData, "\(name): IDX header is truncated")
        }
        var dimensions: [Int] = []
        for d in 0..<rank {
            let o = 4 + 4 * d
            dimensions.append(
                Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3]))
        }
        // A corrupt header can announce dimensions whose product overflows Int: report it
        // as a size mismatch rather than trapping.
        var expected: Int? = 1
        for d in dimensions {
            guard let product = expected?.multipliedReportingOverflow(by: d), !product.overflow else {
                expected = nil
                break
            }
            expected = product.partialValue
        }
        let available = bytes.count - 4 - 4 * rank
        guard let expected, available == expected else {
            let announced = expected.map(String.init) ?? "too many"
            throw SextantMLError(
                code: .corruptData,
                "\(name): IDX header announces \(announced) values (\(dimensions.map(String.init).joined(separator: "x"))) but the file holds \(available)"
            )
        }
        return Array(dimensions: dimensions, values: Swift.Array(bytes[(4 + 4 * rank)...]))
    }
}
