import SextantBase
import Testing

@testable import SextantSecureAggregation

/// Drives one cohort in memory, every message through its byte encoding, with members
/// dropped at chosen stages; what a socket would carry is kept for the tests to inspect.
struct CohortHarness {
    enum Stage { case beforeAdvertising, beforeSharing, beforeMasking, beforeUnmasking }

    var server: SecureAggregationServer
    var clients: [UInt32: SecureAggregationClient] = [:]
    var inputs: [UInt32: [UInt32]] = [:]
    var generator: SeededGenerator
    /// Every masked input the server received, by member: what a server could store.
    var maskedInputs: [UInt32: [UInt32]] = [:]
    /// The keys each member advertised and the shares the server received for unmasking.
    var advertised: [UInt32: SecureAggregationMessage.AdvertiseKeys] = [:]
    var unmaskAnswers: [SecureAggregationMessage.UnmaskShares] = []
    var bits: Int

    init(
        members: Int, threshold: Int, dimension: Int, bits: Int = 32, graph: CommunicationGraph = .complete,
        seed: UInt64 = 1, inputs makeInput: (UInt32) -> [UInt32]
    ) throws {
        let ids = (0..<UInt32(members)).map { $0 * 3 + 5 }  // ids need not be dense
        server = try SecureAggregationServer(
            configuration: .init(
                cohort: 42, members: ids, threshold: threshold, bits: bits, dimension: dimension, graph: graph))
        generator = SeededGenerator(seed: seed)
        self.bits = bits
        for id in ids {
            clients[id] = try SecureAggregationClient(
                configuration: .init(cohort: 42, member: id, threshold: threshold, bits: bits, dimension: dimension),
                using: &generator)
            inputs[id] = makeInput(id)
        }
    }

    static func roundTrip(_ message: SecureAggregationMessage) throws -> SecureAggregationMessage {
        let decoded = try SecureAggregationMessage(decoding: message.encoded())
        #expect(decoded == message)
        return decoded
    }

    /// Runs the protocol; `drops` says who leaves before which stage. Returns the result.
    mutating func run(drops: [Stage: [UInt32]] = [:]) throws -> SecureAggregationServer.Result {
        func alive(_ stage: Stage) -> [UInt32] {
            let gone = Set(drops.filter { isAtOrBefore($0.key, stage) }.flatMap(\.value))
            return clients.keys.sorted().filter { !gone.contains($0) }
        }
        for id in alive(.beforeAdvertising) {
            let keys = try clients[id]!.advertiseKeys()
            advertised[id] = keys
            try server.receive(try Self.roundTrip(.advertiseKeys(keys)))
        }
        let rosters = try server.closeAdvertising()
        let sharing = Set(alive(.beforeSharing))
        for roster in rosters where sharing.contains(roster.recipient) {
            guard case .keyRoster(let decoded) = try Self.roundTrip(.keyRoster(roster)) else { throw Unexpected() }
            let shares = try clients[roster.recipient]!.shareKeys(decoded, using: &generator)
            try server.receive(try Self.roundTrip(.encryptedShares(shares)))
        }
        let deliveries = try server.closeSharing()
        let masking = Set(alive(.beforeMasking))
        for delivery in deliveries where masking.contains(delivery.recipient) {
            guard case .shareDelivery(let decoded) = try Self.roundTrip(.shareDelivery(delivery)) else {
                throw Unexpected()
            }
            let masked = try clients[delivery.recipient]!.maskInput(decoded, input: inputs[delivery.recipient]!)
            maskedInputs[masked.member] = masked.values
            try server.receive(try Self.roundTrip(.maskedInput(masked)))
        }
        let requests = try server.closeMasking()
        let unmasking = Set(alive(.beforeUnmasking))
        for request in requests where unmasking.contains(request.recipient) {
            guard case .unmaskRequest(let decoded) = try Self.roundTrip(.unmaskRequest(request)) else {
                throw Unexpected()
            }
            let answer = try clients[request.recipient]!.unmask(decoded)
            unmaskAnswers.append(answer)
            try server.receive(try Self.roundTrip(.unmaskShares(answer)))
        }
        return try server.finish()
    }

    /// A secret as the server rebuilds it from the unmasking answers it received.
    func recovered(_ kind: SecureAggregationMessage.ShareKind, of member: UInt32) throws -> [UInt8] {
        let shares = unmaskAnswers.flatMap(\.shares).filter { $0.member == member && $0.kind == kind }.map(\.share)
        return try ShamirSecretSharing.reconstruct(shares, threshold: server.configuration.threshold)
    }

    /// The ring sum of the given members' inputs.
    func expectedSum(of members: [UInt32]) -> [UInt32] {
        let mask: UInt32 = bits == 32 ? .max : (1 << bits) - 1
        var sum = [UInt32](repeating: 0, count: inputs.values.first!.count)
        for member in members {
            for (index, value) in inputs[member]!.enumerated() { sum[index] &+= value }
        }
        return sum.map { $0 & mask }
    }

    private func isAtOrBefore(_ drop: Stage, _ stage: Stage) -> Bool {
        let order: [Stage] = [.beforeAdvertising, .beforeSharing, .beforeMasking, .beforeUnmasking]
        return order.firstIndex(of: drop)! <= order.firstIndex(of: stage)!
    }

    struct Unexpected: Error {}
}

/// Pearson's chi-square statistic of ring values over 256 bins of their top eight bits.
func chiSquareOfTopByte(_ values: [UInt32], bits: Int = 32) -> Double {
    var counts = [Int](repeating: 0, count: 256)
    for value in values { counts[Int(value >> UInt32(bits - 8)) & 255] += 1 }
    let expected = Double(values.count) / 256
    return counts.reduce(0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
}

/// The 0.999 quantile of chi-square with 255 degrees of freedom (tables: 330.52); a uniform
/// sample exceeds it once in a thousand seeds, and the tests' seeds are fixed.
let chiSquare255At999 = 330.52
