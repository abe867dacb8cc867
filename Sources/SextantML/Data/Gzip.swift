import CZlib
import Foundation

/// gzip decompression through zlib, for the `.gz` files datasets ship as.
enum Gzip {
    static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// Inflates a whole gzip member; `name` appears in errors. `rawDeflate`: the input is a
    /// bare deflate stream with no header (a zip archive's entry).
    static func decompress(_ input: [UInt8], name: String, rawDeflate: Bool = false) throws -> [UInt8] {
        var stream = z_stream()
        // 15 + 32: the largest window, and accept a gzip or zlib header; -15: no header.
        let windowBits: Int32 = rawDeflate ? -15 : 15 + 32
        guard inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw SextantMLError(code: .corruptData, "\(name): zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8]()
        output.reserveCapacity(input.count * 4)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var status: Int32 = Z_OK
        try input.withUnsafeBufferPointer { source in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = uInt(source.count)
            repeat {
                let produced = chunk.withUnsafeMutableBufferPointer { buffer -> Int in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = uInt(buffer.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return buffer.count - Int(stream.avail_out)
                }
                guard status == Z_OK || status == Z_STREAM_END else {
                    let reason =
                        status == Z_BUF_ERROR ? "the file is truncated" : "the data is corrupt (zlib status \(status))"
                    throw SextantMLError(code: .corruptData, "\(name): cannot decompress: \(reason)")
                }
                output.append(contentsOf: chunk[0..<produced])
                if status == Z_OK && produced == 0 && stream.avail_in == 0 {
                    throw SextantMLError(code: .corruptData, "\(name): cannot decompress: the file is truncated")
                }
            } while status != Z_STREAM_END
        }
        return output
    }
}
