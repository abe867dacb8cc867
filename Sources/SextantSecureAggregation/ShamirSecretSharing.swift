/// Shamir's t-out-of-n secret sharing of 32-byte secrets over the prime field `p = 2^61 - 1`.
///
/// A secret is cut into five chunks of at most 7 bytes (each below `2^56 < p`); each chunk is
/// the constant term of its own random polynomial of degree `t - 1`, and a holder's share is
/// the five polynomials' values at its x coordinate (a member's id + 1, never 0). Any `t`
/// shares give the secret by Lagrange interpolation at 0; fewer give no information about it.
package enum ShamirSecretSharing {
    /// The field's prime, `2^61 - 1`.
    package static let prime: UInt64 = (1 << 61) - 1
    /// Bytes of a secret.
    package static let secretBytes = 32
    /// Field elements per share.
    package static let chunks = 5
    /// Bytes of an encoded share: x (4) and the five values (8 each).
    package static let shareBytes = 4 + 8 * chunks

    /// One holder's share of one secret.
    ///
    /// `Sendable`: a plain value.
    package struct Share: Sendable, Equatable {
        /// The holder's x coordinate (its member id + 1).
        package var x: UInt32
        package var values: [UInt64]

        package init(x: UInt32, values: [UInt64]) {
            self.x = x
            self.values = values
        }

        package func encoded(into bytes: inout [UInt8]) {
            ByteWriter.append(x, to: &bytes)
            for value in values { ByteWriter.append(value, to: &bytes) }
        }

        package init(reading reader: inout ByteReader) throws(SecureAggregationError) {
            x = try reader.read(UInt32.self)
            var values: [UInt64] = []
            for _ in 0..<ShamirSecretSharing.chunks {
                let value = try reader.read(UInt64.self)
                guard value < ShamirSecretSharing.prime else {
                    throw SecureAggregationError(.malformedMessage, "a share value is not a field element")
                }
                values.append(value)
            }
            self.values = values
        }
    }

    /// The x coordinate of a member's shares.
    package static func coordinate(of member: UInt32) -> UInt32 { member &+ 1 }

    /// Shares of `secret` for each of `holders`, any `threshold` of which recover it.
    package static func split(
        _ secret: [UInt8], threshold: Int, holders: [UInt32], using generator: inout some RandomNumberGenerator
    ) -> [Share] {
        precondition(secret.count == secretBytes, "a secret is \(secretBytes) bytes")
        precondition(threshold >= 1 && threshold <= holders.count, "threshold must be 1...holders")
        var shares = holders.map { Share(x: coordinate(of: $0), values: []) }
        for chunk in 0..<chunks {
            var coefficients = [chunkValue(secret, chunk)]
            for _ in 1..<threshold { coefficients.append(randomElement(using: &generator)) }
            for index in shares.indices {
                shares[index].values.append(evaluate(coefficients, at: UInt64(shares[index].x)))
            }
        }
        return shares
    }

    /// The secret from at least `threshold` shares of distinct holders (the first `threshold`
    /// are used).
    package static func reconstruct(_ shares: [Share], threshold: Int) throws(SecureAggregationError) -> [UInt8] {
        guard shares.count >= threshold else {
            throw SecureAggregationError(
                .tooFewMembers, "\(shares.count) shares where the threshold is \(threshold): the secret stays hidden")
        }
        let used = Array(shares.prefix(threshold))
        guard Set(used.map(\.x)).count == used.count, !used.contains(where: { $0.x == 0 }) else {
            throw SecureAggregationError(.duplicate, "shares of one holder given twice")
        }
        // Lagrange basis at 0: l_i = prod_{j != i} x_j / (x_j - x_i).
        var basis: [UInt64] = []
        for i in used.indices {
            var numerator: UInt64 = 1
            var denominator: UInt64 = 1
            for j in used.indices where j != i {
                numerator = multiply(numerator, UInt64(used[j].x))
                denominator = multiply(denominator, subtract(UInt64(used[j].x), UInt64(used[i].x)))
            }
            basis.append(multiply(numerator, inverse(denominator)))
        }
        var secret: [UInt8] = []
        for chunk in 0..<chunks {
            var value: UInt64 = 0
            for (i, share) in used.enumerated() { value = add(value, multiply(share.values[chunk], basis[i])) }
            let width = chunkWidth(chunk)
            guard value >> (8 * UInt64(width)) == 0 else {
                throw SecureAggregationError(.cryptographicFailure, "shares do not agree on one secret")
            }
            for byte in 0..<width { secret.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(byte)))) }
        }
        return secret
    }

    // MARK: - The field

    private static func chunkWidth(_ chunk: Int) -> Int { min(7, secretBytes - 7 * chunk) }

    private static func chunkValue(_ secret: [UInt8], _ chunk: Int) -> UInt64 {
        var value: UInt64 = 0
        for byte in 0..<chunkWidth(chunk) { value |= UInt64(secret[7 * chunk + byte]) << (8 * UInt64(byte)) }
        return value
    }

    private static func randomElement(using generator: inout some RandomNumberGenerator) -> UInt64 {
        while true {
            let value = generator.next() & prime
            if value < prime { return value }
        }
    }

    private static func evaluate(_ coefficients: [UInt64], at x: UInt64) -> UInt64 {
        var result: UInt64 = 0
        for coefficient in coefficients.reversed() { result = add(multiply(result, x), coefficient) }
        return result
    }

    @inline(__always)
    static func add(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let sum = a + b
        return sum >= prime ? sum - prime : sum
    }

    @inline(__always)
    static func subtract(_ a: UInt64, _ b: UInt64) -> UInt64 {
        a >= b ? a - b : a + prime - b
    }

    @inline(__always)
    static func multiply(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (high, low) = a.multipliedFullWidth(by: b)
        // a b = high 2^64 + low, and 2^61 = 1 (mod p).
        let folded = (low & prime) + ((low >> 61) | (high << 3))
        let once = (folded & prime) + (folded >> 61)
        return once >= prime ? once - prime : once
    }

    static func inverse(_ a: UInt64) -> UInt64 {
        var result: UInt64 = 1
        var base = a
        var exponent = prime - 2
        while exponent > 0 {
            if exponent & 1 == 1 { result = multiply(result, base) }
            base = multiply(base, base)
            exponent >>= 1
        }
        return result
    }
}
