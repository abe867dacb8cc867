import Crypto
import Foundation
import _CryptoExtras

/// The keyed stream ciphers that can expand a 32-byte seed into a mask.
package enum MaskStream: String, Sendable, CaseIterable, Codable {
    /// AES-256 in counter mode (BoringSSL's, with AES-NI where the CPU has it).
    case aesCTR = "aes-256-ctr"
    /// ChaCha20 with a 32-bit block counter (BoringSSL's, vectorised).
    case chaCha20 = "chacha20"
}

/// Expands a seed into a pseudorandom vector of 32-bit words and adds it to (or subtracts it
/// from) a ring vector, chunk by chunk, so that a mask of any length costs one chunk of memory.
///
/// A seed is used for exactly one stream (pairwise seeds are derived per pair and cohort, a
/// self-mask seed is fresh per cohort), so the zero nonce never repeats under a key. Adding
/// in `Z_{2^32}` and reducing to `Z_{2^b}` at the end is the same as adding in `Z_{2^b}`, since
/// `2^b` divides `2^32`.
///
/// `Sendable`: a plain value.
package struct MaskGenerator: Sendable, Equatable {
    package var stream: MaskStream

    /// 32-bit words per chunk (64 KiB): large enough to amortise a call, small enough that the
    /// keystream is still in the L2 cache when it is added, and below the allocator's mmap
    /// threshold (a fresh mapping per chunk would cost a page fault per 4 KiB).
    package static let chunkWords = 1 << 14
    private static let zeros = [UInt8](repeating: 0, count: chunkWords * 4)

    package init(stream: MaskStream = .aesCTR) {
        self.stream = stream
    }

    /// Adds `sign * stream(seed)` to `values`, word by word, wrapping.
    package func apply(
        seed: SymmetricKey, to values: UnsafeMutableBufferPointer<UInt32>, subtract: Bool
    ) throws(SecureAggregationError) {
        var start = 0
        var chunk = 0
        while start < values.count {
            let count = min(Self.chunkWords, values.count - start)
            let keystream = try self.keystream(seed: seed, chunk: chunk, bytes: count * 4)
            keystream.withUnsafeBytes { raw in
                Self.add(
                    raw, into: UnsafeMutableBufferPointer(rebasing: values[start..<start + count]), subtract: subtract)
            }
            start += count
            chunk += 1
        }
    }

    /// `values ±= words(raw)`: over aligned little-endian words a loop the compiler vectorises,
    /// else word by word.
    @inline(__always)
    private static func add(
        _ raw: UnsafeRawBufferPointer, into values: UnsafeMutableBufferPointer<UInt32>, subtract: Bool
    ) {
        #if _endian(little)
            if let base = raw.baseAddress, Int(bitPattern: base) % MemoryLayout<UInt32>.alignment == 0 {
                let words = UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt32.self), count: values.count)
                if subtract {
                    for index in 0..<values.count { values[index] &-= words[index] }
                } else {
                    for index in 0..<values.count { values[index] &+= words[index] }
                }
                return
            }
        #endif
        for index in 0..<values.count {
            let word = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))
            values[index] = subtract ? values[index] &- word : values[index] &+ word
        }
    }

    /// The words of the stream, for tests and the benchmark.
    package func words(seed: SymmetricKey, count: Int) throws(SecureAggregationError) -> [UInt32] {
        var values = [UInt32](repeating: 0, count: count)
        try values.withUnsafeMutableBufferPointer { (buffer) throws(SecureAggregationError) in
            try apply(seed: seed, to: buffer, subtract: false)
        }
        return values
    }

    /// Bytes `[chunk * chunkWords * 4, + bytes)` of the stream under `seed`.
    private func keystream(seed: SymmetricKey, chunk: Int, bytes: Int) throws(SecureAggregationError) -> Data {
        let plaintext = Self.zeros[0..<bytes]
        do {
            switch stream {
            case .aesCTR:
                // A 128-bit big-endian counter block: the chunk's first block index in the low 32 bits.
                var block = [UInt8](repeating: 0, count: 16)
                let first = UInt32(chunk * Self.chunkWords * 4 / 16)
                withUnsafeBytes(of: first.bigEndian) { block.replaceSubrange(12..<16, with: $0) }
                return try AES._CTR.encrypt(plaintext, using: seed, nonce: AES._CTR.Nonce(nonceBytes: block))
            case .chaCha20:
                let first = UInt32(chunk * Self.chunkWords * 4 / 64)
                return try Insecure.ChaCha20CTR.encrypt(
                    plaintext, using: seed, counter: Insecure.ChaCha20CTR.Counter(offset: first),
                    nonce: Insecure.ChaCha20CTR.Nonce(data: [UInt8](repeating: 0, count: 12)))
            }
        } catch {
            throw SecureAggregationError(.cryptographicFailure, "the mask stream failed: \(error)")
        }
    }
}
