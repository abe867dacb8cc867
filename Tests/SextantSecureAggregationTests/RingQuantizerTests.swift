import Crypto
import Foundation
import SextantBase
import Testing
import _CryptoExtras

@testable import SextantSecureAggregation

@Suite("Quantisation to the ring")
struct RingQuantizerTests {
    @Test("the decoded sum is within the stated bound of the float sum", arguments: [32, 16])
    func sumWithinBound(bits: Int) throws {
        let members = 10
        let dimension = 2000
        let clip = 1.5
        let quantizer = try RingQuantizer(
            configuration: .init(bits: bits, clipNorm: clip, maxMembers: members), dimension: dimension)
        var generator = SeededGenerator(seed: 3)
        var ringSum = [UInt32](repeating: 0, count: dimension)
        var floatSum = [Double](repeating: 0, count: dimension)
        for member in 0..<members {
            // Some updates inside the ball, some far outside (clipped).
            let size = member % 2 == 0 ? 0.01 : 10.0
            let update = (0..<dimension).map { _ in Float(Double.random(in: -size...size, using: &generator)) }
            let norm = update.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            let factor = norm > clip ? clip / norm : 1
            for index in 0..<dimension { floatSum[index] += Double(update[index]) * factor }
            let encoded = try update.withUnsafeBufferPointer { try quantizer.encode($0, using: &generator) }
            for index in 0..<dimension { ringSum[index] &+= encoded[index] }
        }
        let decoded = try quantizer.decode(sum: ringSum.map { $0 & quantizer.mask })
        let bound = quantizer.sumErrorBound(members: members)
        // The bound is strict in exact arithmetic; 1e-9 of it covers the float sum's own rounding.
        let worst = zip(decoded, floatSum).map { abs($0 - $1) }.max()!
        #expect(worst <= bound * (1 + 1e-9))
        #expect(worst > 0)
    }

    @Test("n members of norm C at the chosen scale never wrap")
    func noWrapAtTheLimit() throws {
        for bits in [8, 12, 32] {
            let members = 7
            let quantizer = try RingQuantizer(
                configuration: .init(bits: bits, clipNorm: 2, maxMembers: members, conditionalRoundingBeta: nil),
                dimension: 3)
            var generator = SeededGenerator(seed: UInt64(bits))
            for sign: Float in [1, -1] {
                // All of the norm in one coordinate: the largest value a coordinate can take.
                let update: [Float] = [2 * sign, 0, 0]
                var sum = [UInt32](repeating: 0, count: 3)
                for _ in 0..<members {
                    let encoded = try update.withUnsafeBufferPointer { try quantizer.encode($0, using: &generator) }
                    for index in 0..<3 { sum[index] &+= encoded[index] }
                }
                let decoded = try quantizer.decode(sum: sum.map { $0 & quantizer.mask })
                #expect(
                    abs(decoded[0] - Double(members) * 2 * Double(sign)) <= quantizer.sumErrorBound(members: members))
            }
            // One more member than the scale was chosen for can wrap at 8 bits.
            let range = Double((1 << (bits - 1)) - 1)
            #expect(Double(members) * (quantizer.scale * 2 + 1) <= range)
        }
    }

    @Test("conditional rounding keeps the rounded norm within the bound")
    func conditionalRounding() throws {
        let quantizer = try RingQuantizer(configuration: .init(clipNorm: 1, maxMembers: 1000), dimension: 500)
        var generator = SeededGenerator(seed: 4)
        let update = (0..<500).map { _ in Float.random(in: -1...1, using: &generator) }
        for _ in 0..<20 {
            let encoded = try update.withUnsafeBufferPointer { try quantizer.encode($0, using: &generator) }
            let norm = encoded.reduce(0.0) { sum, value in
                let signed = Double(Int32(bitPattern: value))
                return sum + signed * signed
            }.squareRoot()
            #expect(norm <= quantizer.roundedNormBound)
        }
        #expect(quantizer.roundedNormBound < quantizer.scale + 500.0.squareRoot())
    }

    @Test("impossible configurations are refused with a line naming the problem")
    func refusals() {
        #expect(throws: SecureAggregationError.self) {
            _ = try RingQuantizer(configuration: .init(bits: 33, clipNorm: 1, maxMembers: 4), dimension: 1)
        }
        #expect(throws: SecureAggregationError.self) {
            _ = try RingQuantizer(configuration: .init(bits: 4, clipNorm: 1, maxMembers: 100), dimension: 1)
        }
        #expect(throws: SecureAggregationError.self) {
            _ = try RingQuantizer(configuration: .init(clipNorm: 0, maxMembers: 4), dimension: 1)
        }
        let quantizer = try? RingQuantizer(configuration: .init(clipNorm: 1, maxMembers: 4), dimension: 2)
        var generator = SeededGenerator(seed: 1)
        #expect(throws: SecureAggregationError.self) {
            _ = try [Float.nan, 0].withUnsafeBufferPointer { try quantizer!.encode($0, using: &generator) }
        }
    }
}

@Suite("Shamir secret sharing and the mask stream")
struct SecretSharingTests {
    @Test("any threshold of shares recovers the secret; fewer do not")
    func thresholds() throws {
        var generator = SeededGenerator(seed: 11)
        let secret = (0..<32).map { UInt8($0 * 7 + 1) }
        let holders: [UInt32] = [3, 9, 14, 20, 21, 40, 41]
        let shares = ShamirSecretSharing.split(secret, threshold: 4, holders: holders, using: &generator)
        for offset in 0..<4 {
            let subset = Array(shares[offset..<(offset + 4)].reversed())
            #expect(try ShamirSecretSharing.reconstruct(subset, threshold: 4) == secret)
        }
        #expect(throws: SecureAggregationError.self) {
            _ = try ShamirSecretSharing.reconstruct(Array(shares.prefix(3)), threshold: 4)
        }
        // Three shares interpolated as if three sufficed: not the secret.
        #expect((try? ShamirSecretSharing.reconstruct(Array(shares.prefix(3)), threshold: 3)) != secret)
        #expect(throws: SecureAggregationError.self) {
            _ = try ShamirSecretSharing.reconstruct([shares[0], shares[0], shares[1], shares[2]], threshold: 4)
        }
    }

    @Test("field multiplication agrees with 128-bit arithmetic")
    func fieldArithmetic() {
        var generator = SeededGenerator(seed: 2)
        let p = ShamirSecretSharing.prime
        for _ in 0..<10_000 {
            let a = generator.next() % p
            let b = generator.next() % p
            let (high, low) = a.multipliedFullWidth(by: b)
            let expected = p.dividingFullWidth((high % p, low)).remainder
            #expect(ShamirSecretSharing.multiply(a, b) == expected)
        }
        #expect(ShamirSecretSharing.multiply(ShamirSecretSharing.inverse(12345), 12345) == 1)
    }

    @Test(
        "the mask stream is the cipher's keystream, continuous across chunks, and cancels",
        arguments: MaskStream.allCases)
    func stream(kind: MaskStream) throws {
        let generator = MaskGenerator(stream: kind)
        let seed = SymmetricKey(data: [UInt8](repeating: 3, count: 32))
        let long = try generator.words(seed: seed, count: MaskGenerator.chunkWords * 2 + 10)
        let short = try generator.words(seed: seed, count: 10)
        #expect(Array(long.prefix(10)) == short)
        // The second chunk continues the first: the cipher over the whole length in one call.
        let whole: Data
        switch kind {
        case .aesCTR:
            whole = try AES._CTR.encrypt(
                [UInt8](repeating: 0, count: long.count * 4), using: seed,
                nonce: AES._CTR.Nonce(nonceBytes: [UInt8](repeating: 0, count: 16)))
        case .chaCha20:
            whole = try Insecure.ChaCha20CTR.encrypt(
                [UInt8](repeating: 0, count: long.count * 4), using: seed,
                nonce: Insecure.ChaCha20CTR.Nonce(data: [UInt8](repeating: 0, count: 12)))
        }
        let expected = whole.withUnsafeBytes { raw in
            (0..<long.count).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self) }
        }
        #expect(long == expected)
        var values: [UInt32] = [1, 2, 3]
        try values.withUnsafeMutableBufferPointer {
            try generator.apply(seed: seed, to: $0, subtract: false)
            try generator.apply(seed: seed, to: $0, subtract: true)
        }
        #expect(values == [1, 2, 3])
        #expect(chiSquareOfTopByte(long) < chiSquare255At999)
    }
}
