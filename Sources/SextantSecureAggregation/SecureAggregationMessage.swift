/// The protocol's messages (docs/secure-aggregation.md, "Messages") and their binary encoding:
/// a 4-byte header (magic `S` `A`, version 1, type byte), the cohort id, then the fields,
/// little-endian. Decoding checks every length against the bytes present before allocating,
/// rejects trailing bytes, and checks the sizes of keys, shares and ciphertexts.
///
/// `Sendable`: plain values.
package enum SecureAggregationMessage: Sendable, Equatable {
    case advertiseKeys(AdvertiseKeys)
    case keyRoster(KeyRoster)
    case encryptedShares(EncryptedShares)
    case shareDelivery(ShareDelivery)
    case maskedInput(MaskedInput)
    case unmaskRequest(UnmaskRequest)
    case unmaskShares(UnmaskShares)

    static let magic: [UInt8] = [0x53, 0x41]
    static let version: UInt8 = 1
    /// A public key's bytes (X25519).
    package static let keyBytes = 32
    /// An encrypted pair of shares: nonce (12), sender and recipient (8), two shares, tag (16).
    package static let ciphertextBytes = 12 + 8 + 2 * ShamirSecretSharing.shareBytes + 16

    /// Round 0, member to server: the member's two public keys.
    package struct AdvertiseKeys: Sendable, Equatable {
        package var cohort: UInt64
        package var member: UInt32
        /// The key that encrypts shares between members.
        package var encryptionKey: [UInt8]
        /// The key that agrees pairwise masks.
        package var maskKey: [UInt8]
    }

    /// A member's public keys as the server relays them.
    package struct RosterEntry: Sendable, Equatable {
        package var member: UInt32
        package var encryptionKey: [UInt8]
        package var maskKey: [UInt8]
    }

    /// Server to member: the keys of the member's neighbours that advertised.
    package struct KeyRoster: Sendable, Equatable {
        package var cohort: UInt64
        package var recipient: UInt32
        package var entries: [RosterEntry]
    }

    /// Round 1, member to server: one ciphertext of shares per neighbour.
    package struct EncryptedShares: Sendable, Equatable {
        package var cohort: UInt64
        package var sender: UInt32
        /// (recipient, ciphertext)
        package var ciphertexts: [(member: UInt32, ciphertext: [UInt8])]

        package static func == (a: Self, b: Self) -> Bool {
            a.cohort == b.cohort && a.sender == b.sender && a.ciphertexts.elementsEqual(b.ciphertexts, by: { $0 == $1 })
        }
    }

    /// Server to member: the ciphertexts addressed to it, each with its sender.
    package struct ShareDelivery: Sendable, Equatable {
        package var cohort: UInt64
        package var recipient: UInt32
        package var ciphertexts: [(member: UInt32, ciphertext: [UInt8])]

        package static func == (a: Self, b: Self) -> Bool {
            a.cohort == b.cohort && a.recipient == b.recipient
                && a.ciphertexts.elementsEqual(b.ciphertexts, by: { $0 == $1 })
        }
    }

    /// Round 2, member to server: the masked update in the ring.
    package struct MaskedInput: Sendable, Equatable {
        package var cohort: UInt64
        package var member: UInt32
        package var bits: UInt8
        package var values: [UInt32]
    }

    /// Server to member: which of its neighbours survived (their self-mask shares are asked)
    /// and which dropped after sharing (their mask-key shares are asked).
    package struct UnmaskRequest: Sendable, Equatable {
        package var cohort: UInt64
        package var recipient: UInt32
        package var survivors: [UInt32]
        package var dropped: [UInt32]
    }

    /// What a share reveals.
    package enum ShareKind: UInt8, Sendable, Equatable {
        /// A share of a survivor's self-mask seed.
        case selfMask = 1
        /// A share of a dropped member's mask private key.
        case maskKey = 2
    }

    /// Round 3, member to server: the shares the request asked for.
    package struct UnmaskShares: Sendable, Equatable {
        package var cohort: UInt64
        package var sender: UInt32
        package var shares: [(member: UInt32, kind: ShareKind, share: ShamirSecretSharing.Share)]

        package static func == (a: Self, b: Self) -> Bool {
            a.cohort == b.cohort && a.sender == b.sender
                && a.shares.elementsEqual(
                    b.shares, by: { $0.member == $1.member && $0.kind == $1.kind && $0.share == $1.share })
        }
    }

    private var type: UInt8 {
        switch self {
        case .advertiseKeys: 1
        case .keyRoster: 2
        case .encryptedShares: 3
        case .shareDelivery: 4
        case .maskedInput: 5
        case .unmaskRequest: 6
        case .unmaskShares: 7
        }
    }

    // MARK: - Encoding

    package func encoded() -> [UInt8] {
        var bytes = Self.magic + [Self.version, type]
        switch self {
        case .advertiseKeys(let m):
            ByteWriter.append(m.cohort, to: &bytes)
            ByteWriter.append(m.member, to: &bytes)
            bytes += m.encryptionKey + m.maskKey
        case .keyRoster(let m):
            ByteWriter.append(m.cohort, to: &bytes)
            ByteWriter.append(m.recipient, to: &bytes)
            ByteWriter.append(UInt32(m.entries.count), to: &bytes)
            for entry in m.entries {
                ByteWriter.append(entry.member, to: &bytes)
                bytes += entry.encryptionKey + entry.maskKey
            }
        case .encryptedShares(let m):
            Self.encode(cohort: m.cohort, member: m.sender, ciphertexts: m.ciphertexts, into: &bytes)
        case .shareDelivery(let m):
            Self.encode(cohort: m.cohort, member: m.recipient, ciphertexts: m.ciphertexts, into: &bytes)
        case .maskedInput(let m):
            ByteWriter.append(m.cohort, to: &bytes)
            ByteWriter.append(m.member, to: &bytes)
            bytes.append(m.bits)
            ByteWriter.append(UInt32(m.values.count), to: &bytes)
            bytes.reserveCapacity(bytes.count + 4 * m.values.count)
            #if _endian(little)
                m.values.withUnsafeBytes { bytes.append(contentsOf: $0) }
            #else
                for value in m.values { ByteWriter.append(value, to: &bytes) }
            #endif
        case .unmaskRequest(let m):
            ByteWriter.append(m.cohort, to: &bytes)
            ByteWriter.append(m.recipient, to: &bytes)
            for list in [m.survivors, m.dropped] {
                ByteWriter.append(UInt32(list.count), to: &bytes)
                for member in list { ByteWriter.append(member, to: &bytes) }
            }
        case .unmaskShares(let m):
            ByteWriter.append(m.cohort, to: &bytes)
            ByteWriter.append(m.sender, to: &bytes)
            ByteWriter.append(UInt32(m.shares.count), to: &bytes)
            for entry in m.shares {
                ByteWriter.append(entry.member, to: &bytes)
                bytes.append(entry.kind.rawValue)
                entry.share.encoded(into: &bytes)
            }
        }
        return bytes
    }

    private static func encode(
        cohort: UInt64, member: UInt32, ciphertexts: [(member: UInt32, ciphertext: [UInt8])], into bytes: inout [UInt8]
    ) {
        ByteWriter.append(cohort, to: &bytes)
        ByteWriter.append(member, to: &bytes)
        ByteWriter.append(UInt32(ciphertexts.count), to: &bytes)
        for entry in ciphertexts {
            ByteWriter.append(entry.member, to: &bytes)
            bytes += entry.ciphertext
        }
    }

    // MARK: - Decoding

    package init(decoding bytes: [UInt8]) throws(SecureAggregationError) {
        var reader = ByteReader(bytes)
        let header = try reader.readBytes(4)
        guard Array(header[0..<2]) == Self.magic else {
            throw SecureAggregationError(.malformedMessage, "not a secure aggregation message (magic)")
        }
        guard header[2] == Self.version else {
            throw SecureAggregationError(
                .malformedMessage, "secure aggregation message version \(header[2]), expected 1")
        }
        let cohort = try reader.read(UInt64.self)
        let member = try reader.read(UInt32.self)
        switch header[3] {
        case 1:
            let keys = try reader.readBytes(2 * Self.keyBytes)
            self = .advertiseKeys(
                AdvertiseKeys(
                    cohort: cohort, member: member, encryptionKey: Array(keys[0..<32]), maskKey: Array(keys[32..<64])))
        case 2:
            let count = try reader.readCount(itemBytes: 4 + 2 * Self.keyBytes)
            var entries: [RosterEntry] = []
            for _ in 0..<count {
                let id = try reader.read(UInt32.self)
                let keys = try reader.readBytes(2 * Self.keyBytes)
                entries.append(
                    RosterEntry(member: id, encryptionKey: Array(keys[0..<32]), maskKey: Array(keys[32..<64])))
            }
            self = .keyRoster(KeyRoster(cohort: cohort, recipient: member, entries: entries))
        case 3:
            self = .encryptedShares(
                EncryptedShares(cohort: cohort, sender: member, ciphertexts: try Self.readCiphertexts(&reader)))
        case 4:
            self = .shareDelivery(
                ShareDelivery(cohort: cohort, recipient: member, ciphertexts: try Self.readCiphertexts(&reader)))
        case 5:
            let bits = try reader.read(UInt8.self)
            let count = try reader.readCount(itemBytes: 4)
            self = .maskedInput(
                MaskedInput(cohort: cohort, member: member, bits: bits, values: try reader.readWords(count)))
        case 6:
            var lists: [[UInt32]] = []
            for _ in 0..<2 {
                let count = try reader.readCount(itemBytes: 4)
                var list: [UInt32] = []
                for _ in 0..<count { list.append(try reader.read(UInt32.self)) }
                lists.append(list)
            }
            self = .unmaskRequest(
                UnmaskRequest(cohort: cohort, recipient: member, survivors: lists[0], dropped: lists[1]))
        case 7:
            let count = try reader.readCount(itemBytes: 5 + ShamirSecretSharing.shareBytes)
            var shares: [(member: UInt32, kind: ShareKind, share: ShamirSecretSharing.Share)] = []
            for _ in 0..<count {
                let about = try reader.read(UInt32.self)
                let rawKind = try reader.read(UInt8.self)
                guard let kind = ShareKind(rawValue: rawKind) else {
                    throw SecureAggregationError(.malformedMessage, "unknown share kind \(rawKind)")
                }
                shares.append((about, kind, try ShamirSecretSharing.Share(reading: &reader)))
            }
            self = .unmaskShares(UnmaskShares(cohort: cohort, sender: member, shares: shares))
        default:
            throw SecureAggregationError(.malformedMessage, "unknown secure aggregation message type \(header[3])")
        }
        try reader.expectEnd()
    }

    private static func readCiphertexts(
        _ reader: inout ByteReader
    ) throws(SecureAggregationError) -> [(member: UInt32, ciphertext: [UInt8])] {
        let count = try reader.readCount(itemBytes: 4 + ciphertextBytes)
        var result: [(member: UInt32, ciphertext: [UInt8])] = []
        for _ in 0..<count {
            let id = try reader.read(UInt32.self)
            result.append((id, try reader.readBytes(ciphertextBytes)))
        }
        return result
    }
}
