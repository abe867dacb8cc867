import Foundation
import SextantPrivacy
import SextantRuntime
import SextantScheduling
import SextantSecureAggregation
import SextantWire

/// One open cohort of secure aggregation on the server (docs/design.md 13): the members
/// invited with their protocol ids and weights, the protocol's server state machine, who
/// answered the current stage, and the rows of the masked inputs stored so far. Lives on the
/// server's actor; its stage deadlines are timers tagged with ``stageGeneration``.
///
/// `Sendable`: plain values.
struct SecureCohort: Sendable {
    /// A masked input as stored: its row and what its member reported.
    struct StoredInput: Sendable {
        var updateID: Int64
        var report: CohortMessage.Report
    }

    /// A Compass member's announced update (docs/design.md 13): the id it was given and
    /// what it reported; its masked input must report the same and is stored under the id.
    struct Announcement: Sendable {
        var updateID: Int64
        var report: CohortMessage.Report
    }

    let id: UInt64
    /// The round's version (FedAvg); for a cohort formed at aggregation, the version its sum becomes.
    let version: Int
    /// A cohort formed at aggregation (Compass): each member's announced update, whose base
    /// versions differ (nil: a round's cohort, formed at assignment on ``version``).
    var announced: [ClientID: Announcement]?
    /// Client -> member id (1-based), and back.
    let members: [ClientID: UInt32]
    let clients: [UInt32: ClientID]
    /// The scheduler's weight of each member, which the member multiplied its delta by.
    let weights: [ClientID: Double]
    let quantizer: RingQuantizer
    /// Distributed DP: each member's discrete Gaussian, in ring units (nil: no noise).
    let noise: DiscreteGaussianSampler?
    var machine: SecureAggregationServer
    /// Members that left the federation: they will not answer.
    var gone: Set<ClientID> = []
    /// Members that answered the current stage.
    var answered: Set<ClientID> = []
    var stored: [ClientID: StoredInput] = [:]
    var stageGeneration: UInt64 = 0
    /// When it opened, on the server's clock (its unmasking logs the seconds since).
    var opened = 0.0
    /// Whether the masking stage's deadline is armed (at the first masked input).
    var maskingDeadlineArmed = false

    var timerID: TimerID { "secure-aggregation-\(id)" }

    /// Whether every member the current stage waits for has answered or left.
    var stageComplete: Bool {
        let expected = machine.survivors.compactMap { clients[$0] }.filter { !gone.contains($0) }
        return expected.allSatisfy { answered.contains($0) }
    }

    /// Why a protocol message from `client` is refused before the state machine sees it.
    struct Refusal: Error, Equatable {
        var code: ErrorReplyMessage.Code
        var text: String
    }

    /// Checks who sent `body` (docs/design.md 10 and 13): a member of this cohort that has
    /// not left, whose message decodes and names this cohort and the sender's own member id.
    /// The state machine then checks stage, duplicates and contents.
    func check(_ body: [UInt8], from client: ClientID) -> Result<SecureAggregationMessage, Refusal> {
        guard let member = members[client], !gone.contains(client) else {
            return .failure(Refusal(code: .unsolicited, text: "client \(client) is not a member of cohort \(id)"))
        }
        let step: SecureAggregationMessage
        do {
            step = try SecureAggregationMessage(decoding: body)
        } catch {
            return .failure(Refusal(code: .malformed, text: "cohort \(id): \(error.message)"))
        }
        guard let claimed = Self.sender(of: step), claimed.cohort == id, claimed.member == member else {
            return .failure(
                Refusal(
                    code: .unsolicited,
                    text: "client \(client) is member \(member) of cohort \(id), its message claims otherwise"))
        }
        return .success(step)
    }

    /// The sender id a protocol message claims, and its cohort.
    static func sender(of message: SecureAggregationMessage) -> (cohort: UInt64, member: UInt32)? {
        switch message {
        case .advertiseKeys(let m): (m.cohort, m.member)
        case .encryptedShares(let m): (m.cohort, m.sender)
        case .maskedInput(let m): (m.cohort, m.member)
        case .unmaskShares(let m): (m.cohort, m.sender)
        case .keyRoster, .shareDelivery, .unmaskRequest: nil
        }
    }
}

/// Secure aggregation's state on the server: the open cohorts and what the run has done so
/// far, for the status and the logs.
///
/// `Sendable`: plain values.
struct SecureCohorts: Sendable {
    let section: SecureAggregationSection
    var open: [UInt64: SecureCohort] = [:]
    var completed = 0
    var abandoned = 0
    /// Members that dropped from cohorts that completed.
    var droppedMembers = 0
    /// Makes cohort ids unique in a process; a cohort id is also the salt of its keys.
    var sequence: UInt32
    /// Members re-assigned one by one to the round of `version` (they rejoined, or the
    /// server restarted), waiting to form one cohort.
    var gathering: (version: Int, members: Set<ClientID>)?
    /// Compass: the members' announcements (their updates trained, not yet in a cohort).
    var announced: [ClientID: SecureCohort.Announcement] = [:]
    static let gatheringTimer: TimerID = "secure-aggregation-gathering"

    /// Distributed DP: the RDP of every cohort unmasked so far, at
    /// `RDPAccountant.defaultOrders` (nil without noise), and the last cohort's round.
    private(set) var rdp: [Double]?
    private(set) var lastRound: DistributedDiscreteGaussianAccounting.Round?

    init(section: SecureAggregationSection, sequence: UInt32) {
        self.section = section
        self.sequence = sequence
    }

    /// Charges one unmasked cohort: its survivors' summed noise against one member's
    /// sensitivity (`DistributedDiscreteGaussianAccounting`, docs/secure-aggregation.md 4).
    mutating func charge(_ round: DistributedDiscreteGaussianAccounting.Round) {
        let orders = RDPAccountant.defaultOrders
        let previous = rdp ?? [Double](repeating: 0, count: orders.count)
        rdp = zip(orders, previous).map { $1 + DistributedDiscreteGaussianAccounting.rdp(order: $0, round: round) }
        lastRound = round
    }

    /// The RDP curve, to commit with a checkpoint (nil before the first charge).
    func savedAccount() throws -> Data? {
        try rdp.map { try JSONEncoder().encode($0) }
    }

    mutating func restoreAccount(from data: Data) throws {
        let curve = try JSONDecoder().decode([Double].self, from: data)
        guard curve.count == RDPAccountant.defaultOrders.count else {
            throw RuntimeError(.storage, "\(curve.count) RDP values, expected \(RDPAccountant.defaultOrders.count)")
        }
        rdp = curve
    }

    /// ε at `delta` of every cohort charged so far (nil before the first, or without noise).
    func epsilon(delta: Double) -> Double? {
        guard let rdp else { return nil }
        return try? RDPAccountant.convert(rdp: rdp, orders: RDPAccountant.defaultOrders, delta: delta).epsilon
    }

    mutating func nextID(version: Int) -> UInt64 {
        sequence &+= 1
        return UInt64(truncatingIfNeeded: version) << 32 | UInt64(sequence)
    }
}
