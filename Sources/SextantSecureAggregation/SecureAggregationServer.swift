import Crypto

/// The server's side of the protocol for one cohort (docs/secure-aggregation.md), as a state
/// machine: `receive` takes a member's message of the current stage, `close...` ends a stage
/// (whoever has not answered has dropped) and returns the messages for the next, and
/// ``finish()`` returns the sum. Masked inputs are added into one running sum as they arrive,
/// so the server holds one vector, never a member's update. A refused message changes nothing.
///
/// `Sendable`: a plain value.
package struct SecureAggregationServer: Sendable {
    package struct Configuration: Sendable, Equatable {
        package var cohort: UInt64
        /// The members invited to the cohort.
        package var members: [UInt32]
        /// Shares needed to recover a secret (of a neighbourhood, with a sparse graph).
        package var threshold: Int
        package var bits: Int = 32
        package var dimension: Int
        package var graph: CommunicationGraph = .complete
        package var stream: MaskStream = .aesCTR

        package init(
            cohort: UInt64, members: [UInt32], threshold: Int, bits: Int = 32, dimension: Int,
            graph: CommunicationGraph = .complete, stream: MaskStream = .aesCTR
        ) {
            self.cohort = cohort
            self.members = members
            self.threshold = threshold
            self.bits = bits
            self.dimension = dimension
            self.graph = graph
            self.stream = stream
        }
    }

    package enum Stage: Sendable, Equatable {
        case advertising, sharing, masking, unmasking, finished
    }

    /// The unmasked sum and whose inputs it holds.
    package struct Result: Sendable, Equatable {
        package var sum: [UInt32]
        package var members: [UInt32]
    }

    package let configuration: Configuration
    package private(set) var stage: Stage = .advertising
    private var keys: [UInt32: SecureAggregationMessage.RosterEntry] = [:]
    /// Neighbours over the members that advertised (U1).
    private var neighbours: [UInt32: [UInt32]] = [:]
    /// sender -> its ciphertexts by recipient (U2 = the senders).
    private var ciphertexts: [UInt32: [UInt32: [UInt8]]] = [:]
    private var sharers: Set<UInt32> = []
    /// U3 and the running sum of their masked inputs.
    private var masked: Set<UInt32> = []
    private var sum: [UInt32]
    /// What each survivor was asked to reveal, by member asked.
    private var requests: [UInt32: SecureAggregationMessage.UnmaskRequest] = [:]
    /// Shares received, by the member they are about.
    private var selfMaskShares: [UInt32: [ShamirSecretSharing.Share]] = [:]
    private var maskKeyShares: [UInt32: [ShamirSecretSharing.Share]] = [:]
    private var answered: Set<UInt32> = []
    /// Whose self-mask seeds and mask keys ``finish()`` recovered (never both of one member).
    package private(set) var recoveredSelfMasks: Set<UInt32> = []
    package private(set) var recoveredMaskKeys: Set<UInt32> = []

    package init(configuration: Configuration) throws(SecureAggregationError) {
        try configuration.graph.validate(threshold: configuration.threshold)
        guard Set(configuration.members).count == configuration.members.count else {
            throw SecureAggregationError(.invalidConfiguration, "cohort \(configuration.cohort) lists a member twice")
        }
        guard configuration.members.count > configuration.threshold else {
            throw SecureAggregationError(
                .invalidConfiguration,
                "cohort \(configuration.cohort): \(configuration.members.count) members cannot reach a threshold of \(configuration.threshold) neighbours"
            )
        }
        guard (2...32).contains(configuration.bits), configuration.dimension >= 1 else {
            throw SecureAggregationError(.invalidConfiguration, "ring bits must be 2-32 and the dimension at least 1")
        }
        self.configuration = configuration
        sum = [UInt32](repeating: 0, count: configuration.dimension)
    }

    /// The members that survived every stage so far.
    package var survivors: [UInt32] {
        switch stage {
        case .advertising: configuration.members.sorted()
        case .sharing: keys.keys.sorted()
        case .masking: sharers.sorted()
        case .unmasking, .finished: masked.sorted()
        }
    }

    private func expect(_ expected: Stage, _ what: String, from member: UInt32) throws(SecureAggregationError) {
        guard stage == expected else {
            throw SecureAggregationError(
                .wrongStage, "cohort \(configuration.cohort): \(what) from member \(member) at stage \(stage)")
        }
    }

    private func expectMember(_ cohort: UInt64, _ member: UInt32, in set: Set<UInt32>) throws(SecureAggregationError) {
        guard cohort == configuration.cohort else {
            throw SecureAggregationError(
                .unknownMember, "a message of cohort \(cohort) in cohort \(configuration.cohort)")
        }
        guard set.contains(member) else {
            throw SecureAggregationError(
                .unknownMember, "cohort \(configuration.cohort): member \(member) is not expected here")
        }
    }

    // MARK: - Messages

    /// Any member message, dispatched to its stage.
    package mutating func receive(_ message: SecureAggregationMessage) throws(SecureAggregationError) {
        switch message {
        case .advertiseKeys(let m): try receive(m)
        case .encryptedShares(let m): try receive(m)
        case .maskedInput(let m): try receive(m)
        case .unmaskShares(let m): try receive(m)
        case .keyRoster, .shareDelivery, .unmaskRequest:
            throw SecureAggregationError(.malformedMessage, "a server's message sent to the server")
        }
    }

    package mutating func receive(_ m: SecureAggregationMessage.AdvertiseKeys) throws(SecureAggregationError) {
        try expect(.advertising, "keys", from: m.member)
        try expectMember(m.cohort, m.member, in: Set(configuration.members))
        guard keys[m.member] == nil else {
            throw SecureAggregationError(
                .duplicate, "cohort \(configuration.cohort): member \(m.member) advertised twice")
        }
        _ = try MemberKeys.publicKey(m.encryptionKey)
        _ = try MemberKeys.publicKey(m.maskKey)
        let used = Set(keys.values.flatMap { [$0.encryptionKey, $0.maskKey] })
        guard m.encryptionKey != m.maskKey, !used.contains(m.encryptionKey), !used.contains(m.maskKey) else {
            throw SecureAggregationError(
                .duplicate, "cohort \(configuration.cohort): member \(m.member) advertised a key already in use")
        }
        keys[m.member] = .init(member: m.member, encryptionKey: m.encryptionKey, maskKey: m.maskKey)
    }

    /// Ends round 0: one roster per member that advertised, with its neighbours' keys.
    package mutating func closeAdvertising() throws(SecureAggregationError) -> [SecureAggregationMessage.KeyRoster] {
        try expect(.advertising, "the end of advertising", from: 0)
        let graph = configuration.graph.neighbours(among: Array(keys.keys))
        try requireThreshold(graph.mapValues(\.count), "advertised keys")
        neighbours = graph
        stage = .sharing
        return graph.keys.sorted().map { member in
            .init(cohort: configuration.cohort, recipient: member, entries: graph[member]!.map { keys[$0]! })
        }
    }

    package mutating func receive(_ m: SecureAggregationMessage.EncryptedShares) throws(SecureAggregationError) {
        try expect(.sharing, "shares", from: m.sender)
        try expectMember(m.cohort, m.sender, in: Set(keys.keys))
        guard ciphertexts[m.sender] == nil else {
            throw SecureAggregationError(
                .duplicate, "cohort \(configuration.cohort): member \(m.sender) sent shares twice")
        }
        let expected = neighbours[m.sender]!
        var byRecipient: [UInt32: [UInt8]] = [:]
        for (recipient, ciphertext) in m.ciphertexts {
            guard expected.contains(recipient) else {
                throw SecureAggregationError(
                    .unknownMember,
                    "cohort \(configuration.cohort): member \(m.sender) sent shares to \(recipient), not a neighbour")
            }
            guard byRecipient[recipient] == nil else {
                throw SecureAggregationError(
                    .duplicate, "cohort \(configuration.cohort): member \(m.sender) sent two shares to \(recipient)")
            }
            guard ciphertext.count == SecureAggregationMessage.ciphertextBytes else {
                throw SecureAggregationError(
                    .malformedMessage,
                    "cohort \(configuration.cohort): a ciphertext of \(ciphertext.count) bytes from member \(m.sender)")
            }
            byRecipient[recipient] = ciphertext
        }
        guard byRecipient.count == expected.count else {
            throw SecureAggregationError(
                .malformedMessage,
                "cohort \(configuration.cohort): member \(m.sender) sent shares to \(byRecipient.count) of its \(expected.count) neighbours"
            )
        }
        ciphertexts[m.sender] = byRecipient
    }

    /// Ends round 1: to each member that shared, the ciphertexts its neighbours sent it.
    package mutating func closeSharing() throws(SecureAggregationError) -> [SecureAggregationMessage.ShareDelivery] {
        try expect(.sharing, "the end of sharing", from: 0)
        let senders = Set(ciphertexts.keys)
        var deliveries: [SecureAggregationMessage.ShareDelivery] = []
        var counts: [UInt32: Int] = [:]
        for member in senders.sorted() {
            let from = neighbours[member]!.filter { senders.contains($0) }
            counts[member] = from.count
            deliveries.append(
                .init(
                    cohort: configuration.cohort, recipient: member,
                    ciphertexts: from.map { ($0, ciphertexts[$0]![member]!) }))
        }
        try requireThreshold(counts, "shared keys")
        sharers = senders
        ciphertexts = [:]
        stage = .masking
        return deliveries
    }

    package mutating func receive(_ m: SecureAggregationMessage.MaskedInput) throws(SecureAggregationError) {
        try expect(.masking, "a masked input", from: m.member)
        try expectMember(m.cohort, m.member, in: sharers)
        guard !masked.contains(m.member) else {
            throw SecureAggregationError(
                .duplicate, "cohort \(configuration.cohort): member \(m.member) sent its masked input twice")
        }
        guard Int(m.bits) == configuration.bits, m.values.count == configuration.dimension else {
            throw SecureAggregationError(
                .malformedMessage,
                "cohort \(configuration.cohort): member \(m.member) sent \(m.values.count) values of \(m.bits) bits, expected \(configuration.dimension) of \(configuration.bits)"
            )
        }
        if configuration.bits < 32, let value = m.values.first(where: { $0 >> configuration.bits != 0 }) {
            throw SecureAggregationError(
                .malformedMessage,
                "cohort \(configuration.cohort): member \(m.member) sent \(value), outside the \(configuration.bits)-bit ring"
            )
        }
        sum.withUnsafeMutableBufferPointer { total in
            m.values.withUnsafeBufferPointer { values in
                for index in total.indices { total[index] &+= values[index] }
            }
        }
        masked.insert(m.member)
    }

    /// Ends round 2: to each member that sent its input, which of its neighbours survived and
    /// which dropped after sharing. Refused when some secret that must be recovered has fewer
    /// than the threshold of holders left.
    package mutating func closeMasking() throws(SecureAggregationError) -> [SecureAggregationMessage.UnmaskRequest] {
        try expect(.masking, "the end of masking", from: 0)
        guard masked.count >= configuration.threshold else {
            throw SecureAggregationError(
                .tooFewMembers,
                "cohort \(configuration.cohort): \(masked.count) masked inputs, the threshold is \(configuration.threshold)"
            )
        }
        var holders: [UInt32: Int] = [:]
        for member in sharers where needsRecovery(member) {
            holders[member] = neighbours[member]!.filter { masked.contains($0) }.count
        }
        try requireThreshold(holders, "sent masked inputs")
        var result: [SecureAggregationMessage.UnmaskRequest] = []
        for member in masked.sorted() {
            let around = neighbours[member]!.filter { sharers.contains($0) }
            let request = SecureAggregationMessage.UnmaskRequest(
                cohort: configuration.cohort, recipient: member, survivors: around.filter { masked.contains($0) },
                dropped: around.filter { !masked.contains($0) })
            requests[member] = request
            result.append(request)
        }
        stage = .unmasking
        return result
    }

    /// A survivor's self mask must go; a member that dropped after sharing must have its
    /// pairwise masks removed when some survivor masked with it.
    private func needsRecovery(_ member: UInt32) -> Bool {
        masked.contains(member) || neighbours[member]!.contains { masked.contains($0) }
    }

    package mutating func receive(_ m: SecureAggregationMessage.UnmaskShares) throws(SecureAggregationError) {
        try expect(.unmasking, "shares for unmasking", from: m.sender)
        try expectMember(m.cohort, m.sender, in: masked)
        guard !answered.contains(m.sender) else {
            throw SecureAggregationError(
                .duplicate, "cohort \(configuration.cohort): member \(m.sender) answered the unmasking twice")
        }
        let request = requests[m.sender]!
        var expected: [UInt32: SecureAggregationMessage.ShareKind] = [:]
        for member in request.survivors { expected[member] = .selfMask }
        for member in request.dropped { expected[member] = .maskKey }
        var seen: Set<UInt32> = []
        let x = ShamirSecretSharing.coordinate(of: m.sender)
        for entry in m.shares {
            guard let kind = expected[entry.member] else {
                throw SecureAggregationError(
                    .unknownMember,
                    "cohort \(configuration.cohort): member \(m.sender) sent a share of \(entry.member), not asked for")
            }
            guard seen.insert(entry.member).inserted else {
                throw SecureAggregationError(
                    .duplicate, "cohort \(configuration.cohort): member \(m.sender) sent two shares of \(entry.member)")
            }
            guard kind == entry.kind else {
                throw SecureAggregationError(
                    .refusedReveal,
                    "cohort \(configuration.cohort): member \(m.sender) sent the other share of \(entry.member) than asked"
                )
            }
            guard entry.share.x == x else {
                throw SecureAggregationError(
                    .malformedMessage,
                    "cohort \(configuration.cohort): member \(m.sender) sent a share held by another member")
            }
        }
        for entry in m.shares {
            switch entry.kind {
            case .selfMask: selfMaskShares[entry.member, default: []].append(entry.share)
            case .maskKey: maskKeyShares[entry.member, default: []].append(entry.share)
            }
        }
        answered.insert(m.sender)
    }

    /// Ends round 3: recovers each survivor's self-mask seed and each dropped member's mask
    /// key from the threshold of shares, removes their masks from the sum and returns it.
    /// Refused, changing nothing, when a secret has fewer shares than the threshold.
    package mutating func finish() throws(SecureAggregationError) -> Result {
        try expect(.unmasking, "the end of unmasking", from: 0)
        let t = configuration.threshold
        var counts: [UInt32: Int] = [:]
        for member in masked { counts[member] = selfMaskShares[member]?.count ?? 0 }
        for member in sharers.subtracting(masked) where needsRecovery(member) {
            counts[member] = maskKeyShares[member]?.count ?? 0
        }
        if let (member, count) = counts.filter({ $0.value < t }).min(by: { $0.key < $1.key }) {
            throw SecureAggregationError(
                .tooFewMembers,
                "cohort \(configuration.cohort): \(count) shares of member \(member)'s secret arrived, the threshold is \(t): the sum stays masked"
            )
        }
        var seeds: [(UInt32, [UInt8])] = []
        var droppedKeys: [(UInt32, Curve25519.KeyAgreement.PrivateKey)] = []
        for member in masked.sorted() {
            seeds.append((member, try ShamirSecretSharing.reconstruct(selfMaskShares[member] ?? [], threshold: t)))
        }
        for member in sharers.subtracting(masked).sorted() where needsRecovery(member) {
            let key = try MemberKeys.privateKey(
                try ShamirSecretSharing.reconstruct(maskKeyShares[member] ?? [], threshold: t))
            guard Array(key.publicKey.rawRepresentation) == keys[member]!.maskKey else {
                throw SecureAggregationError(
                    .cryptographicFailure,
                    "cohort \(configuration.cohort): the shares of member \(member)'s mask key do not give its advertised key"
                )
            }
            droppedKeys.append((member, key))
        }
        var total = sum
        let generator = MaskGenerator(stream: configuration.stream)
        let ringMask = RingQuantizer.mask(bits: configuration.bits)
        try total.withUnsafeMutableBufferPointer { (buffer) throws(SecureAggregationError) in
            for (_, seed) in seeds {
                try generator.apply(seed: SymmetricKey(data: seed), to: buffer, subtract: true)
            }
            for (member, key) in droppedKeys {
                for survivor in neighbours[member]! where masked.contains(survivor) {
                    let seed = try MemberKeys.maskSeed(
                        key, try MemberKeys.publicKey(keys[survivor]!.maskKey), cohort: configuration.cohort)
                    // The survivor added this mask when its id was the smaller; undo that.
                    try generator.apply(seed: seed, to: buffer, subtract: survivor < member)
                }
            }
            for index in buffer.indices { buffer[index] &= ringMask }
        }
        recoveredSelfMasks = Set(seeds.map(\.0))
        recoveredMaskKeys = Set(droppedKeys.map(\.0))
        sum = total
        stage = .finished
        return Result(sum: total, members: masked.sorted())
    }

    private func requireThreshold(_ counts: [UInt32: Int], _ what: String) throws(SecureAggregationError) {
        let t = configuration.threshold
        guard !counts.isEmpty else {
            throw SecureAggregationError(.tooFewMembers, "cohort \(configuration.cohort): no member \(what)")
        }
        if let (member, count) = counts.filter({ $0.value < t }).min(by: { $0.key < $1.key }) {
            throw SecureAggregationError(
                .tooFewMembers,
                "cohort \(configuration.cohort): member \(member) has \(count) neighbours that \(what), the threshold is \(t)"
            )
        }
    }
}
