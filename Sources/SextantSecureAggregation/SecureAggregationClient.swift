import Crypto

/// One member's side of the protocol (docs/secure-aggregation.md), as a state machine: each
/// method takes the server's message of one stage and returns the member's answer. It does no
/// I/O; a refused message (an error) leaves the state as it was.
///
/// Not `Sendable`: it holds the member's private keys; one owner drives it.
package struct SecureAggregationClient {
    /// What the member knows before the protocol starts; it never takes these from the server.
    package struct Configuration: Sendable, Equatable {
        package var cohort: UInt64
        package var member: UInt32
        /// Shares needed to recover a secret; also the fewest neighbours the member will
        /// continue with at each stage.
        package var threshold: Int
        /// Bits of the ring.
        package var bits: Int = 32
        /// Length of the update.
        package var dimension: Int
        package var stream: MaskStream = .aesCTR

        package init(
            cohort: UInt64, member: UInt32, threshold: Int, bits: Int = 32, dimension: Int, stream: MaskStream = .aesCTR
        ) {
            self.cohort = cohort
            self.member = member
            self.threshold = threshold
            self.bits = bits
            self.dimension = dimension
            self.stream = stream
        }
    }

    package enum Stage: Sendable, Equatable {
        case created, advertised, shared, masked
    }

    package let configuration: Configuration
    package private(set) var stage: Stage = .created
    private let encryptionKey: Curve25519.KeyAgreement.PrivateKey
    private let maskKey: Curve25519.KeyAgreement.PrivateKey
    private let selfMaskSeed: [UInt8]
    /// The neighbours' public keys, from the roster.
    private var roster:
        [UInt32: (encryption: Curve25519.KeyAgreement.PublicKey, mask: Curve25519.KeyAgreement.PublicKey)] =
            [:]
    /// The shares neighbours gave this member, by neighbour: the members it masked with.
    private var held: [UInt32: (maskKey: ShamirSecretSharing.Share, selfMask: ShamirSecretSharing.Share)] = [:]
    /// Which share of each neighbour this member has revealed; never both of one.
    package private(set) var revealed: [UInt32: SecureAggregationMessage.ShareKind] = [:]

    /// A member with fresh keys and self-mask seed drawn from `generator`, which must be a
    /// cryptographically secure generator outside tests (the system's, by default).
    package init(
        configuration: Configuration, using generator: inout some RandomNumberGenerator
    ) throws(SecureAggregationError) {
        guard configuration.threshold >= 1, (2...32).contains(configuration.bits), configuration.dimension >= 1 else {
            throw SecureAggregationError(
                .invalidConfiguration,
                "member \(configuration.member): threshold >= 1, bits 2-32 and dimension >= 1 are needed")
        }
        self.configuration = configuration
        encryptionKey = MemberKeys.makePrivateKey(using: &generator)
        maskKey = MemberKeys.makePrivateKey(using: &generator)
        selfMaskSeed = MemberKeys.randomBytes(32, using: &generator)
    }

    package init(configuration: Configuration) throws(SecureAggregationError) {
        var generator = SystemRandomNumberGenerator()
        try self.init(configuration: configuration, using: &generator)
    }

    private var name: String { "member \(configuration.member)" }

    private func expect(_ expected: Stage, for what: String) throws(SecureAggregationError) {
        guard stage == expected else {
            throw SecureAggregationError(.wrongStage, "\(name) received \(what) at stage \(stage)")
        }
    }

    private func expectCohort(_ cohort: UInt64, _ recipient: UInt32) throws(SecureAggregationError) {
        guard cohort == configuration.cohort, recipient == configuration.member else {
            throw SecureAggregationError(
                .unknownMember,
                "\(name) of cohort \(configuration.cohort) received a message for member \(recipient) of cohort \(cohort)"
            )
        }
    }

    /// Round 0: the two public keys.
    package mutating func advertiseKeys() throws(SecureAggregationError) -> SecureAggregationMessage.AdvertiseKeys {
        try expect(.created, for: "a request to advertise")
        stage = .advertised
        return .init(
            cohort: configuration.cohort, member: configuration.member,
            encryptionKey: Array(encryptionKey.publicKey.rawRepresentation),
            maskKey: Array(maskKey.publicKey.rawRepresentation))
    }

    /// Round 1: shares of the mask key and the self-mask seed for every neighbour in the
    /// roster, each pair encrypted to its neighbour.
    package mutating func shareKeys(
        _ roster: SecureAggregationMessage.KeyRoster, using generator: inout some RandomNumberGenerator
    ) throws(SecureAggregationError) -> SecureAggregationMessage.EncryptedShares {
        try expect(.advertised, for: "a key roster")
        try expectCohort(roster.cohort, roster.recipient)
        let ids = roster.entries.map(\.member)
        guard Set(ids).count == ids.count else {
            throw SecureAggregationError(.duplicate, "\(name): the key roster lists a member twice")
        }
        guard !ids.contains(configuration.member) else {
            throw SecureAggregationError(
                .unknownMember, "\(name): the key roster lists this member as its own neighbour")
        }
        guard ids.count >= configuration.threshold else {
            throw SecureAggregationError(
                .tooFewMembers,
                "\(name): \(ids.count) neighbours advertised keys, the threshold is \(configuration.threshold)")
        }
        let ownKeys = [encryptionKey.publicKey.rawRepresentation, maskKey.publicKey.rawRepresentation].map { Array($0) }
        let allKeys = roster.entries.flatMap { [$0.encryptionKey, $0.maskKey] } + ownKeys
        guard Set(allKeys).count == allKeys.count else {
            throw SecureAggregationError(.duplicate, "\(name): the key roster repeats a public key")
        }
        var keys: [UInt32: (encryption: Curve25519.KeyAgreement.PublicKey, mask: Curve25519.KeyAgreement.PublicKey)] =
            [:]
        for entry in roster.entries {
            keys[entry.member] = (
                try MemberKeys.publicKey(entry.encryptionKey), try MemberKeys.publicKey(entry.maskKey)
            )
        }
        let maskKeyShares = ShamirSecretSharing.split(
            Array(maskKey.rawRepresentation), threshold: configuration.threshold, holders: ids, using: &generator)
        let seedShares = ShamirSecretSharing.split(
            selfMaskSeed, threshold: configuration.threshold, holders: ids, using: &generator)
        var ciphertexts: [(member: UInt32, ciphertext: [UInt8])] = []
        for (index, peer) in ids.enumerated() {
            let key = try MemberKeys.shareKey(encryptionKey, keys[peer]!.encryption, cohort: configuration.cohort)
            ciphertexts.append(
                (
                    peer,
                    try MemberKeys.seal(
                        maskKeyShare: maskKeyShares[index], selfMaskShare: seedShares[index],
                        sender: configuration.member, recipient: peer, key: key, using: &generator)
                ))
        }
        self.roster = keys
        stage = .shared
        return .init(cohort: configuration.cohort, sender: configuration.member, ciphertexts: ciphertexts)
    }

    /// Round 2: the update, already in the ring, plus the self mask and one pairwise mask per
    /// neighbour whose shares arrived (added when this member's id is the smaller, subtracted
    /// otherwise, so each pair's masks cancel in the sum).
    package mutating func maskInput(
        _ delivery: SecureAggregationMessage.ShareDelivery, input: [UInt32]
    ) throws(SecureAggregationError) -> SecureAggregationMessage.MaskedInput {
        try expect(.shared, for: "its neighbours' shares")
        try expectCohort(delivery.cohort, delivery.recipient)
        guard input.count == configuration.dimension else {
            throw SecureAggregationError(
                .invalidConfiguration,
                "\(name): an input of \(input.count) values, the cohort's dimension is \(configuration.dimension)")
        }
        let ringMask = RingQuantizer.mask(bits: configuration.bits)
        guard !input.contains(where: { $0 & ~ringMask != 0 }) else {
            throw SecureAggregationError(
                .invalidConfiguration, "\(name): an input value outside the \(configuration.bits)-bit ring")
        }
        var opened: [UInt32: (maskKey: ShamirSecretSharing.Share, selfMask: ShamirSecretSharing.Share)] = [:]
        for (sender, ciphertext) in delivery.ciphertexts {
            guard let keys = roster[sender] else {
                throw SecureAggregationError(.unknownMember, "\(name): shares from member \(sender), not a neighbour")
            }
            guard opened[sender] == nil else {
                throw SecureAggregationError(.duplicate, "\(name): two sets of shares from member \(sender)")
            }
            let key = try MemberKeys.shareKey(encryptionKey, keys.encryption, cohort: configuration.cohort)
            opened[sender] = try MemberKeys.open(
                ciphertext, sender: sender, recipient: configuration.member, key: key)
        }
        guard opened.count >= configuration.threshold else {
            throw SecureAggregationError(
                .tooFewMembers,
                "\(name): \(opened.count) neighbours shared keys, the threshold is \(configuration.threshold)")
        }
        var values = input
        let generator = MaskGenerator(stream: configuration.stream)
        try values.withUnsafeMutableBufferPointer { (buffer) throws(SecureAggregationError) in
            try generator.apply(seed: SymmetricKey(data: selfMaskSeed), to: buffer, subtract: false)
            for peer in opened.keys.sorted() {
                let seed = try MemberKeys.maskSeed(maskKey, roster[peer]!.mask, cohort: configuration.cohort)
                try generator.apply(seed: seed, to: buffer, subtract: configuration.member > peer)
            }
            for index in buffer.indices { buffer[index] &= ringMask }
        }
        held = opened
        stage = .masked
        return .init(
            cohort: configuration.cohort, member: configuration.member, bits: UInt8(configuration.bits), values: values)
    }

    /// Round 3: shares of the survivors' self-mask seeds and of the dropped members' mask keys.
    /// Refused, revealing nothing, when fewer than the threshold survive among this member and
    /// its neighbours, when a member is named that this member did not mask with, or when the
    /// answer would reveal both shares of one member (now or with an earlier answer).
    package mutating func unmask(
        _ request: SecureAggregationMessage.UnmaskRequest
    ) throws(SecureAggregationError) -> SecureAggregationMessage.UnmaskShares {
        try expect(.masked, for: "an unmasking request")
        try expectCohort(request.cohort, request.recipient)
        let survivors = Set(request.survivors)
        let dropped = Set(request.dropped)
        guard survivors.count == request.survivors.count, dropped.count == request.dropped.count else {
            throw SecureAggregationError(.duplicate, "\(name): the unmasking request lists a member twice")
        }
        guard survivors.isDisjoint(with: dropped) else {
            let both = survivors.intersection(dropped).sorted()
            throw SecureAggregationError(
                .refusedReveal, "\(name): the unmasking request asks for both shares of member \(both[0])")
        }
        for member in survivors.union(dropped) where held[member] == nil {
            throw SecureAggregationError(
                .unknownMember, "\(name): the unmasking request names member \(member), not a neighbour that shared")
        }
        guard survivors.count + 1 >= configuration.threshold else {
            throw SecureAggregationError(
                .tooFewMembers,
                "\(name): \(survivors.count + 1) survivors with this member, the threshold is \(configuration.threshold): nothing revealed"
            )
        }
        for member in survivors where revealed[member] == .maskKey {
            throw SecureAggregationError(
                .refusedReveal, "\(name): member \(member)'s mask key was revealed; its self mask will not be")
        }
        for member in dropped where revealed[member] == .selfMask {
            throw SecureAggregationError(
                .refusedReveal, "\(name): member \(member)'s self mask was revealed; its mask key will not be")
        }
        var shares: [(member: UInt32, kind: SecureAggregationMessage.ShareKind, share: ShamirSecretSharing.Share)] = []
        for member in survivors.sorted() {
            revealed[member] = .selfMask
            shares.append((member, .selfMask, held[member]!.selfMask))
        }
        for member in dropped.sorted() {
            revealed[member] = .maskKey
            shares.append((member, .maskKey, held[member]!.maskKey))
        }
        return .init(cohort: configuration.cohort, sender: configuration.member, shares: shares)
    }
}

// Holds a member's private keys and what it has revealed: one owner drives it.
@available(*, unavailable)
extension SecureAggregationClient: Sendable {}
