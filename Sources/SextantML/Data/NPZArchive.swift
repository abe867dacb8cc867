/// The arrays of an `.npz` file: a zip archive of `.npy` files, stored or deflated, as
/// `numpy.savez` and `numpy.savez_compressed` write it (ZIP64 sizes included).
package struct NPZArchive: Sendable {
    /// The arrays' names (the entries without `.npy`), in archive order.
    package let names: [String]
    private let entries: [String: Entry]
    private let bytes: [UInt8]
    private let name: String

    struct Entry {
        var method: UInt16
        var compressedSize: Int
        var size: Int
        var localHeader: Int
    }

    /// Reads the archive's directory; `name` appears in errors.
    package init(bytes: [UInt8], name: String) throws {
        self.bytes = bytes
        self.name = name
        func fail(_ problem: String) -> SextantMLError { SextantMLError(code: .corruptData, "\(name): \(problem)") }
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        func u64(_ at: Int) -> Int { u32(at) | u32(at + 4) << 32 }
        // The end-of-central-directory record: its signature within the last 64 KiB + 22 bytes.
        guard bytes.count >= 22 else { throw fail("not a zip archive (too short for an .npz)") }
        var end = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 65_535)
        while end >= lowest, u32(end) != 0x0605_4B50 { end -= 1 }
        guard end >= lowest else { throw fail("not a zip archive (no end of central directory)") }
        var count = u16(end + 10)
        var offset = u32(end + 16)
        if offset == 0xFFFF_FFFF || count == 0xFFFF, end >= 20, u32(end - 20) == 0x0706_4B50 {
            let record = u64(end - 20 + 8)
            guard record + 56 <= bytes.count, u32(record) == 0x0606_4B50 else { throw fail("bad ZIP64 directory") }
            count = u64(record + 32)
            offset = u64(record + 48)
        }
        var names: [String] = []
        var entries: [String: Entry] = [:]
        var at = offset
        for _ in 0..<count {
            guard at + 46 <= bytes.count, u32(at) == 0x0201_4B50 else { throw fail("the zip directory is corrupt") }
            let nameLength = u16(at + 28)
            let extraLength = u16(at + 30)
            let commentLength = u16(at + 32)
            guard at + 46 + nameLength + extraLength <= bytes.count else {
                throw fail("the zip directory is truncated")
            }
            var entry = Entry(
                method: UInt16(u16(at + 10)), compressedSize: u32(at + 20), size: u32(at + 24),
                localHeader: u32(at + 42))
            // ZIP64: the sizes and offset that overflow 32 bits follow in extra field 0x0001, in this order.
            var extra = at + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let (id, length) = (u16(extra), u16(extra + 2))
                if id == 1 {
                    var field = extra + 4
                    if entry.size == 0xFFFF_FFFF, field + 8 <= extraEnd {
                        entry.size = u64(field)
                        field += 8
                    }
                    if entry.compressedSize == 0xFFFF_FFFF, field + 8 <= extraEnd {
                        entry.compressedSize = u64(field)
                        field += 8
                    }
                    if entry.localHeader == 0xFFFF_FFFF, field + 8 <= extraEnd { entry.localHeader = u64(field) }
                }
                extra += 4 + length
            }
            var entryName = String(decoding: bytes[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
            if entryName.hasSuffix(".npy") { entryName.removeLast(4) }
            names.append(entryName)
            entries[entryName] = entry
            at += 46 + nameLength + extraLength + commentLength
        }
        self.names = names
        self.entries = entries
    }

    /// The array `arrayName`; an archive without it is an error naming the arrays it holds.
    package func array(_ arrayName: String) throws -> NumPyArray {
        let label = "\(name) array '\(arrayName)'"
        guard let entry = entries[arrayName] else {
            throw SextantMLError(
                code: .corruptData,
                "\(name) has no array '\(arrayName)'; it holds \(SiteStatistics.list(names)) (data.features_array and data.labels_array name them)"
            )
        }
        let at = entry.localHeader
        guard at + 30 <= bytes.count, bytes[at] == 0x50, bytes[at + 1] == 0x4B, bytes[at + 2] == 3, bytes[at + 3] == 4
        else { throw SextantMLError(code: .corruptData, "\(label): bad local zip header") }
        let start =
            at + 30 + (Int(bytes[at + 26]) | Int(bytes[at + 27]) << 8)
            + (Int(bytes[at + 28]) | Int(bytes[at + 29]) << 8)
        guard start + entry.compressedSize <= bytes.count else {
            throw SextantMLError(code: .corruptData, "\(label): the archive is truncated")
        }
        let stored = Array(bytes[start..<(start + entry.compressedSize)])
        switch entry.method {
        case 0:
            return try NumPyArray.parse(stored, name: label)
        case 8:
            let inflated = try Gzip.decompress(stored, name: label, rawDeflate: true)
            guard inflated.count == entry.size else {
                throw SextantMLError(
                    code: .corruptData, "\(label): inflates to \(inflated.count) bytes, not \(entry.size)")
            }
            return try NumPyArray.parse(inflated, name: label)
        default:
            throw SextantMLError(
                code: .unsupportedFormat,
                "\(label): zip compression method \(entry.method) is not supported (np.savez or np.savez_compressed)")
        }
    }
}
