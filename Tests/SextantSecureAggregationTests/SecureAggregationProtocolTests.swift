import Crypto
import SextantBase
import Testing

@testable import SextantSecureAggregation

@Suite("Secure aggregation protocol")
struct SecureAggregationProtocolTests {
    static func randomInputs(dimension: Int, bits: Int = 32, seed: UInt64 = 9) -> (UInt32) -> [UInt32] {
        { member in
            var generator = SeededGenerator(seed: seed &+ UInt64(member))
            let mask: UInt32 = bits == 32 ? .max : (1 << bits) - 1
            return (0..<dimension).map { _ in UInt32(truncatingIfNeeded: generator.next()) & mask }
        }
    }

    @Test("masks cancel exactly in the ring", arguments: [32, 20, 8])
    func masksCancel(bits: Int) throws {
        var cohort = try CohortHarness(
            members: 6, threshold: 4, dimension: 1000, bits: bits,
            inputs: Self.randomInputs(dimension: 1000, bits: bits))
        let result = try cohort.run()
        #expect(result.members.count == 6)
        #expect(result.sum == cohort.expectedSum(of: result.members))
        // No member's masked input is its input.
        for (member, masked) in cohort.maskedInputs { #expect(masked != cohort.inputs[member]) }
    }

    @Test("masks cancel with the sparse SecAgg+ graph")
    func sparseGraph() throws {
        var cohort = try CohortHarness(
            members: 12, threshold: 3, dimension: 300, graph: .harary(degree: 4, seed: 77),
            inputs: Self.randomInputs(dimension: 300))
        let result = try cohort.run(drops: [.beforeMasking: [cohort.clients.keys.sorted()[3]]])
        #expect(result.members.count == 11)
        #expect(result.sum == cohort.expectedSum(of: result.members))
    }

    @Test("graph neighbourhoods are symmetric, of the degree, and complete when small")
    func graphShape() {
        let members = (0..<UInt32(20)).map { $0 * 2 }
        let graph = CommunicationGraph.harary(degree: 6, seed: 3).neighbours(among: members)
        for (member, around) in graph {
            #expect(around.count == 6)
            #expect(!around.contains(member))
            for peer in around { #expect(graph[peer]!.contains(member)) }
        }
        let small = CommunicationGraph.harary(degree: 6, seed: 3).neighbours(among: Array(members.prefix(5)))
        #expect(small.values.allSatisfy { $0.count == 4 })
    }

    @Test(
        "members dropped at every stage are recovered",
        arguments: [
            [CohortHarness.Stage.beforeAdvertising], [.beforeSharing], [.beforeMasking], [.beforeUnmasking],
            [.beforeSharing, .beforeMasking, .beforeUnmasking],
        ])
    func dropouts(stages: [CohortHarness.Stage]) throws {
        var cohort = try CohortHarness(
            members: 8, threshold: 4, dimension: 200, inputs: Self.randomInputs(dimension: 200))
        let ids = cohort.clients.keys.sorted()
        var drops: [CohortHarness.Stage: [UInt32]] = [:]
        for (index, stage) in stages.enumerated() { drops[stage] = [ids[index + 1]] }
        let result = try cohort.run(drops: drops)
        // Who sent a masked input is in the sum, even when it left before unmasking.
        let inSum = Set(cohort.maskedInputs.keys)
        #expect(Set(result.members) == inSum)
        #expect(result.sum == cohort.expectedSum(of: result.members))
        // Never both secrets of one member.
        #expect(cohort.server.recoveredSelfMasks.isDisjoint(with: cohort.server.recoveredMaskKeys))
        if stages.contains(.beforeMasking) { #expect(cohort.server.recoveredMaskKeys.count == 1) }
    }

    @Test("the server refuses to unmask when fewer than the threshold remain")
    func refusesBelowThreshold() throws {
        var cohort = try CohortHarness(
            members: 6, threshold: 4, dimension: 50, inputs: Self.randomInputs(dimension: 50))
        let ids = cohort.clients.keys.sorted()
        // Three survivors of masking: fewer than t = 4 masked inputs.
        #expect(throws: SecureAggregationError.self) {
            _ = try cohort.run(drops: [.beforeMasking: Array(ids.prefix(3))])
        }
        #expect(cohort.server.stage == .masking)

        // Enough inputs, but only three answer the unmasking: the sum stays masked.
        var late = try CohortHarness(members: 6, threshold: 4, dimension: 50, inputs: Self.randomInputs(dimension: 50))
        do {
            _ = try late.run(drops: [.beforeUnmasking: Array(ids.prefix(3))])
            Issue.record("unmasked with three shares of each secret")
        } catch let error as SecureAggregationError {
            #expect(error.code == .tooFewMembers)
        }
        #expect(late.server.stage == .unmasking)
        #expect(late.server.recoveredSelfMasks.isEmpty)
    }

    @Test("a member refuses an unmasking request with fewer than the threshold of survivors")
    func clientRefusesFewSurvivors() throws {
        var cohort = try CohortHarness(
            members: 5, threshold: 4, dimension: 20, inputs: Self.randomInputs(dimension: 20))
        let ids = cohort.clients.keys.sorted()
        var client = try #require(cohort.clients[ids[0]])
        try drive(&cohort, to: .unmasking)
        client = cohort.clients[ids[0]]!
        let request = SecureAggregationMessage.UnmaskRequest(
            cohort: 42, recipient: ids[0], survivors: [ids[1], ids[2]], dropped: [ids[3], ids[4]])
        #expect(throws: SecureAggregationError.self) { _ = try client.unmask(request) }
        #expect(client.revealed.isEmpty)
    }

    @Test("a member never reveals both shares of one peer")
    func neverBoth() throws {
        var cohort = try CohortHarness(
            members: 5, threshold: 3, dimension: 20, inputs: Self.randomInputs(dimension: 20))
        let ids = cohort.clients.keys.sorted()
        try drive(&cohort, to: .unmasking)
        var client = cohort.clients[ids[0]]!
        let both = SecureAggregationMessage.UnmaskRequest(
            cohort: 42, recipient: ids[0], survivors: [ids[1], ids[2], ids[3]], dropped: [ids[1]])
        let error = #expect(throws: SecureAggregationError.self) { _ = try client.unmask(both) }
        #expect(error?.code == .refusedReveal)
        #expect(client.revealed.isEmpty)
        // An honest request, then one that calls a survivor dropped: the second is refused.
        _ = try client.unmask(.init(cohort: 42, recipient: ids[0], survivors: [ids[1], ids[2]], dropped: [ids[3]]))
        let flip = #expect(throws: SecureAggregationError.self) {
            _ = try client.unmask(
                .init(cohort: 42, recipient: ids[0], survivors: [ids[2], ids[4]], dropped: [ids[1]]))
        }
        #expect(flip?.code == .refusedReveal)
        #expect(client.revealed[ids[1]] == .selfMask)
        #expect(client.revealed[ids[3]] == .maskKey)
    }

    @Test("a stored masked input is indistinguishable from uniform")
    func maskedInputLooksUniform() throws {
        // Every member's update is all zeros: anything but uniform would show.
        let dimension = 1 << 16
        var cohort = try CohortHarness(
            members: 4, threshold: 3, dimension: dimension, inputs: { _ in [UInt32](repeating: 0, count: dimension) })
        _ = try cohort.run()
        for (_, masked) in cohort.maskedInputs {
            #expect(chiSquareOfTopByte(masked) < chiSquare255At999)
            #expect(chiSquareOfTopByte(masked.map { $0 << 24 }) < chiSquare255At999)  // the low byte
        }
    }

    @Test("what the server holds for a survivor does not determine its update")
    func serverViewHidesSurvivor() throws {
        // Members 0 and 1 survive; member 2 drops after sharing (its mask key is recovered).
        let dimension = 1 << 16
        var cohort = try CohortHarness(
            members: 4, threshold: 2, dimension: dimension, inputs: { _ in [UInt32](repeating: 0, count: dimension) })
        let ids = cohort.clients.keys.sorted()
        let result = try cohort.run(drops: [.beforeMasking: [ids[2]]])
        #expect(result.sum == [UInt32](repeating: 0, count: dimension))
        // Secrets recovered: survivors' self masks, the dropped member's mask key; no survivor's mask key.
        #expect(cohort.server.recoveredSelfMasks == Set(result.members))
        #expect(cohort.server.recoveredMaskKeys == [ids[2]])
        #expect(cohort.server.recoveredMaskKeys.isDisjoint(with: result.members))
        // Remove from survivor 0's masked input everything the server can compute: its self mask
        // (from the shares) and its pairwise mask with the dropped member. What remains is the
        // update plus pairwise masks under keys the server never held: uniform, although the
        // update is all zeros.
        let survivor = result.members[0]
        var view = cohort.maskedInputs[survivor]!
        let dropped = ids[2]
        let droppedKey = try MemberKeys.privateKey(try cohort.recovered(.maskKey, of: dropped))
        let pairwise = try MemberKeys.maskSeed(
            droppedKey, try MemberKeys.publicKey(cohort.advertised[survivor]!.maskKey), cohort: 42)
        try view.withUnsafeMutableBufferPointer { (buffer) throws in
            let generator = MaskGenerator()
            try generator.apply(
                seed: SymmetricKey(data: try cohort.recovered(.selfMask, of: survivor)), to: buffer, subtract: true)
            try generator.apply(seed: pairwise, to: buffer, subtract: survivor < dropped)
        }
        #expect(view != cohort.inputs[survivor]!)
        #expect(chiSquareOfTopByte(view) < chiSquare255At999)
    }

    // MARK: - Helpers

    enum Point { case unmasking }

    /// Runs every member through masking, so that the clients are ready for requests.
    func drive(_ cohort: inout CohortHarness, to _: Point) throws {
        let ids = cohort.clients.keys.sorted()
        for id in ids { try cohort.server.receive(.advertiseKeys(try cohort.clients[id]!.advertiseKeys())) }
        for roster in try cohort.server.closeAdvertising() {
            try cohort.server.receive(
                .encryptedShares(try cohort.clients[roster.recipient]!.shareKeys(roster, using: &cohort.generator)))
        }
        for delivery in try cohort.server.closeSharing() {
            let id = delivery.recipient
            try cohort.server.receive(
                .maskedInput(try cohort.clients[id]!.maskInput(delivery, input: cohort.inputs[id]!)))
        }
    }
}
