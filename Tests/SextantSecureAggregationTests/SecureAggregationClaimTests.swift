import SextantBase
import Testing

@testable import SextantSecureAggregation

/// Everything from a peer is a claim: wrong sizes, unknown members, duplicates and requests for
/// both shares get a clear error, and the protocol completes afterwards as if they never came.
@Suite("Secure aggregation refuses bad claims")
struct SecureAggregationClaimTests {
    @Test("decoding rejects every truncation, trailing bytes and unknown types")
    func decoding() throws {
        let messages: [SecureAggregationMessage] = [
            .advertiseKeys(
                .init(
                    cohort: 1, member: 2, encryptionKey: .init(repeating: 9, count: 32),
                    maskKey: .init(repeating: 8, count: 32))),
            .maskedInput(.init(cohort: 1, member: 2, bits: 32, values: [1, 2, 3])),
            .unmaskRequest(.init(cohort: 1, recipient: 2, survivors: [3, 4], dropped: [5])),
            .unmaskShares(.init(cohort: 1, sender: 2, shares: [(3, .selfMask, .init(x: 3, values: [1, 2, 3, 4, 5]))])),
            .encryptedShares(
                .init(
                    cohort: 1, sender: 2,
                    ciphertexts: [(3, .init(repeating: 1, count: SecureAggregationMessage.ciphertextBytes))])),
        ]
        for message in messages {
            let bytes = message.encoded()
            #expect(try SecureAggregationMessage(decoding: bytes) == message)
            for length in 0..<bytes.count {
                #expect(throws: SecureAggregationError.self) {
                    _ = try SecureAggregationMessage(decoding: Array(bytes.prefix(length)))
                }
            }
            #expect(throws: SecureAggregationError.self) { _ = try SecureAggregationMessage(decoding: bytes + [0]) }
        }
        var unknown = messages[0].encoded()
        unknown[3] = 99
        #expect(throws: SecureAggregationError.self) { _ = try SecureAggregationMessage(decoding: unknown) }
        // A count far beyond the bytes present is refused before anything is allocated.
        var huge = messages[1].encoded()
        huge.replaceSubrange(17..<21, with: [0xFF, 0xFF, 0xFF, 0x7F])
        let error = #expect(throws: SecureAggregationError.self) { _ = try SecureAggregationMessage(decoding: huge) }
        #expect(error?.code == .malformedMessage)
        // A share value outside the field.
        var share = messages[3].encoded()
        share.replaceSubrange((share.count - 8)..., with: [UInt8](repeating: 0xFF, count: 8))
        #expect(throws: SecureAggregationError.self) { _ = try SecureAggregationMessage(decoding: share) }
    }

    @Test("the server refuses unknown members, duplicates and wrong sizes, and completes afterwards")
    func serverRefusals() throws {
        var cohort = try CohortHarness(
            members: 5, threshold: 3, dimension: 64, inputs: SecureAggregationProtocolTests.randomInputs(dimension: 64))
        let ids = cohort.clients.keys.sorted()
        var server = cohort.server
        var advertised: [UInt32: SecureAggregationMessage.AdvertiseKeys] = [:]
        for id in ids {
            advertised[id] = try cohort.clients[id]!.advertiseKeys()
            try server.receive(advertised[id]!)
        }
        func refuses(_ code: SecureAggregationError.Code, _ body: () throws -> Void) {
            let error = #expect(throws: SecureAggregationError.self) { try body() }
            #expect(error?.code == code)
        }
        var stranger = advertised[ids[0]]!
        stranger.member = 999
        refuses(.unknownMember) { try server.receive(stranger) }
        refuses(.duplicate) { try server.receive(advertised[ids[0]]!) }
        refuses(.wrongStage) {
            try server.receive(.maskedInput(.init(cohort: 42, member: ids[0], bits: 32, values: [])))
        }
        var otherCohort = advertised[ids[1]]!
        otherCohort.cohort = 7
        refuses(.unknownMember) { try server.receive(otherCohort) }

        var shares: [UInt32: SecureAggregationMessage.EncryptedShares] = [:]
        for roster in try server.closeAdvertising() {
            shares[roster.recipient] = try cohort.clients[roster.recipient]!.shareKeys(roster, using: &cohort.generator)
        }
        var twice = shares[ids[0]]!
        twice.ciphertexts.append(twice.ciphertexts[0])
        refuses(.duplicate) { try server.receive(twice) }
        var short = shares[ids[0]]!
        short.ciphertexts.removeLast()
        refuses(.malformedMessage) { try server.receive(short) }
        var wrongSize = shares[ids[0]]!
        wrongSize.ciphertexts[0].ciphertext.removeLast()
        refuses(.malformedMessage) { try server.receive(wrongSize) }
        for id in ids { try server.receive(shares[id]!) }
        refuses(.duplicate) { try server.receive(shares[ids[0]]!) }

        var masked: [SecureAggregationMessage.MaskedInput] = []
        for delivery in try server.closeSharing() {
            masked.append(
                try cohort.clients[delivery.recipient]!.maskInput(delivery, input: cohort.inputs[delivery.recipient]!))
        }
        var shortInput = masked[0]
        shortInput.values.removeLast()
        refuses(.malformedMessage) { try server.receive(shortInput) }
        for input in masked { try server.receive(input) }
        refuses(.duplicate) { try server.receive(masked[0]) }

        var answers: [SecureAggregationMessage.UnmaskShares] = []
        for request in try server.closeMasking() {
            answers.append(try cohort.clients[request.recipient]!.unmask(request))
        }
        var doubled = answers[0]
        doubled.shares.append(doubled.shares[0])
        refuses(.duplicate) { try server.receive(doubled) }
        var otherKind = answers[0]
        otherKind.shares[0].kind = .maskKey
        refuses(.refusedReveal) { try server.receive(otherKind) }
        var foreign = answers[0]
        foreign.shares[0].member = 999
        refuses(.unknownMember) { try server.receive(foreign) }
        var stolen = answers[0]
        stolen.shares[0].share.x = answers[1].shares[0].share.x
        refuses(.malformedMessage) { try server.receive(stolen) }
        for answer in answers { try server.receive(answer) }
        refuses(.duplicate) { try server.receive(answers[0]) }

        let result = try server.finish()
        #expect(result.sum == cohort.expectedSum(of: ids))
    }

    @Test("a masked input outside a small ring is refused and the sum is untouched")
    func valuesOutsideTheRing() throws {
        var cohort = try CohortHarness(
            members: 4, threshold: 2, dimension: 8, bits: 12,
            inputs: SecureAggregationProtocolTests.randomInputs(dimension: 8, bits: 12))
        let ids = cohort.clients.keys.sorted()
        for id in ids { try cohort.server.receive(.advertiseKeys(try cohort.clients[id]!.advertiseKeys())) }
        for roster in try cohort.server.closeAdvertising() {
            try cohort.server.receive(
                .encryptedShares(try cohort.clients[roster.recipient]!.shareKeys(roster, using: &cohort.generator)))
        }
        var masked: [SecureAggregationMessage.MaskedInput] = []
        for delivery in try cohort.server.closeSharing() {
            let id = delivery.recipient
            masked.append(try cohort.clients[id]!.maskInput(delivery, input: cohort.inputs[id]!))
        }
        var wide = masked[0]
        wide.values[3] |= 1 << 20
        let error = #expect(throws: SecureAggregationError.self) { try cohort.server.receive(wide) }
        #expect(error?.code == .malformedMessage)
        for input in masked { try cohort.server.receive(input) }
        for request in try cohort.server.closeMasking() {
            try cohort.server.receive(try cohort.clients[request.recipient]!.unmask(request))
        }
        #expect(try cohort.server.finish().sum == cohort.expectedSum(of: ids))
    }

    @Test("a member refuses rosters and deliveries that do not add up")
    func clientRefusals() throws {
        var generator = SeededGenerator(seed: 5)
        var peers: [SecureAggregationClient] = []
        for id in UInt32(0)..<4 {
            peers.append(
                try SecureAggregationClient(
                    configuration: .init(cohort: 1, member: id, threshold: 2, dimension: 4), using: &generator))
        }
        let keys = try (0..<4).map { index -> SecureAggregationMessage.RosterEntry in
            let advertised = try peers[index].advertiseKeys()
            return .init(
                member: advertised.member, encryptionKey: advertised.encryptionKey, maskKey: advertised.maskKey)
        }
        var client = peers[0]
        let roster = SecureAggregationMessage.KeyRoster(cohort: 1, recipient: 0, entries: Array(keys[1...]))
        #expect(throws: SecureAggregationError.self) {
            _ = try client.shareKeys(.init(cohort: 1, recipient: 0, entries: [keys[1], keys[1]]), using: &generator)
        }
        #expect(throws: SecureAggregationError.self) {
            _ = try client.shareKeys(.init(cohort: 1, recipient: 0, entries: [keys[0], keys[1]]), using: &generator)
        }
        #expect(throws: SecureAggregationError.self) {
            _ = try client.shareKeys(.init(cohort: 1, recipient: 0, entries: [keys[1]]), using: &generator)
        }
        #expect(throws: SecureAggregationError.self) {
            _ = try client.shareKeys(.init(cohort: 2, recipient: 0, entries: Array(keys[1...])), using: &generator)
        }
        #expect(client.stage == .advertised)
        _ = try client.shareKeys(roster, using: &generator)
        // Shares from peer 1 to peer 0, but delivered twice, or sent from a stranger.
        var peer1 = peers[1]
        let fromPeer1 = try peer1.shareKeys(
            .init(cohort: 1, recipient: 1, entries: [keys[0], keys[2], keys[3]]), using: &generator)
        let toZero = fromPeer1.ciphertexts.first { $0.member == 0 }!.ciphertext
        func delivery(_ pairs: [(UInt32, [UInt8])]) -> SecureAggregationMessage.ShareDelivery {
            .init(cohort: 1, recipient: 0, ciphertexts: pairs.map { (member: $0.0, ciphertext: $0.1) })
        }
        let zeros: [UInt32] = [0, 0, 0, 0]
        #expect(throws: SecureAggregationError.self) {
            _ = try client.maskInput(delivery([(1, toZero), (1, toZero)]), input: zeros)
        }
        #expect(throws: SecureAggregationError.self) {
            _ = try client.maskInput(delivery([(9, toZero)]), input: zeros)
        }
        // Peer 1's ciphertext to 0 relabelled as peer 2's: it does not decrypt.
        let relabelled = #expect(throws: SecureAggregationError.self) {
            _ = try client.maskInput(delivery([(1, toZero), (2, toZero)]), input: zeros)
        }
        #expect(relabelled?.code == .cryptographicFailure)
        #expect(client.stage == .shared)
    }
}
