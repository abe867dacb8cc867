import Crypto
import Foundation

// Parameter blobs are the host's Float32 memory copied as is; that is only the documented
// little-endian format on little-endian hosts, which is all Sextant runs on.
#if _endian(big)
    #error("SextantStore stores parameters as raw little-endian Float32 and needs a little-endian host")
#endif

/// Conversions between flat parameter vectors and their stored form: raw little-endian
/// Float32 bytes, identified by the SHA-256 of those bytes.
package enum ParameterBlob {
    /// The `dtype` recorded with every blob.
    package static let dtype = "f32"

    /// The bytes of `values`, copied in one `memcpy`.
    package static func encode(_ values: [Float]) -> Data {
        values.withUnsafeBytes { Data($0) }
    }

    /// The floats in `data`; throws if its length is not a multiple of 4.
    package static func decode(_ data: Data) throws -> [Float] {
        guard data.count % MemoryLayout<Float>.size == 0 else {
            throw StoreError(
                code: .invalidData,
                "parameter blob of \(data.count) bytes is not a whole number of Float32 values")
        }
        let count = data.count / MemoryLayout<Float>.size
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            data.withUnsafeBytes { raw in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw)
            }
            initialized = count
        }
    }

    /// Lower-case hex SHA-256 of `data`.
    package static func sha256Hex(_ data: Data) -> String {
        hex(SHA256.hash(data: data))
    }

    /// Lower-case hex SHA-256 of the stored form of `values`, without copying them.
    package static func sha256Hex(_ values: [Float]) -> String {
        values.withUnsafeBytes { hex(SHA256.hash(data: $0)) }
    }

    /// The raw 32-byte SHA-256 of `data`.
    package static func sha256Digest(_ data: Data) -> [UInt8] {
        Array(SHA256.hash(data: data))
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(SHA256.byteCount * 2)
        for byte in digest {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
