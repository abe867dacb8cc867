import SextantSecureAggregation
import SextantWire
import Testing

@testable import SextantClient
@testable import SextantRuntime

/// A client's side of secure aggregation (docs/design.md 13), driven against the protocol's
/// server state machine with no sockets: what the server unmasks is the weighted sum of the
/// members' clipped deltas, and an invitation that breaks the client's own rules is refused.
@Suite struct CohortParticipantTests {
    static let dimension = 6
    static let section: SecureAggregationSection = {
        var section = SecureAggregationSection()
        section.enabled = true
        section.clipNorm = 2
        return section
    }()

    static func invitation(member: UInt32, weight: Double) -> CohortMessage.Invitation {
        .init(
            member: member, members: 3, threshold: 2, bits: 32, clipNorm: 2, maxMembers: 3, weight: weight,
            baseVersion: 4)
    }

    static func body(_ message: CohortMessage) throws -> SecureAggregationMessage {
        guard case .step(let body, _) = message.content else { throw SecureAggregationError(.malformedMessage, "") }
        return try SecureAggregationMessage(decoding: body)
    }

    @Test func theServerUnmasksTheWeightedSumOfClippedDeltas() throws {
        let weights = [0.2, 0.3, 0.5]
        // The third delta has norm 6 and is clipped to 2.
        let deltas: [[Float]] = [[1, 0, 0, 0, 0, 0], [0, -1, 0.5, 0, 0, 0], [0, 0, 0, 6, 0, 0]]
        var server = try SecureAggregationServer(
            configuration: .init(cohort: 11, members: [1, 2, 3], threshold: 2, dimension: Self.dimension))
        var members = (0..<3).map { _ in CohortParticipant(section: Self.section, dimension: Self.dimension) }
        for index in 0..<3 {
            let advert = try members[index].invited(
                runID: "r", cohort: 11, Self.invitation(member: UInt32(index + 1), weight: weights[index]))
            try server.receive(try Self.body(advert))
        }
        for roster in try server.closeAdvertising() {
            let answer = try #require(
                try members[Int(roster.recipient) - 1].received(
                    SecureAggregationMessage.keyRoster(roster).encoded(), runID: "r", cohort: 11))
            try server.receive(try Self.body(answer))
        }
        for (index, delta) in deltas.enumerated() {
            // Trained before the shares arrive: nothing to send yet.
            let report = CohortMessage.Report(
                updateID: UInt64(index), baseVersion: 4, stepsDone: 5, computeSeconds: 1, sampleCount: 10)
            #expect(try members[index].trained(delta, report: report) == nil)
        }
        for delivery in try server.closeSharing() {
            let masked = try #require(
                try members[Int(delivery.recipient) - 1].received(
                    SecureAggregationMessage.shareDelivery(delivery).encoded(), runID: "r", cohort: 11))
            guard case .step(_, let report?) = masked.content else {
                Issue.record("a masked input without its report")
                return
            }
            #expect(report.baseVersion == 4)
            try server.receive(try Self.body(masked))
        }
        for request in try server.closeMasking() {
            let answer = try #require(
                try members[Int(request.recipient) - 1].received(
                    SecureAggregationMessage.unmaskRequest(request).encoded(), runID: "r", cohort: 11))
            try server.receive(try Self.body(answer))
        }
        let result = try server.finish()
        let quantizer = try RingQuantizer(configuration: .init(clipNorm: 2, maxMembers: 3), dimension: Self.dimension)
        let decoded = try quantizer.decode(sum: result.sum)
        var expected = [Double](repeating: 0, count: Self.dimension)
        for (index, delta) in deltas.enumerated() {
            let norm = delta.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
            let clip = norm > 2 ? 2 / norm : 1
            for i in 0..<Self.dimension { expected[i] += Double(delta[i]) * clip * weights[index] }
        }
        // The quantiser's bound on the decoded sum of 3 members, plus Float32 rounding.
        let bound = quantizer.sumErrorBound(members: 3) + 1e-6
        for i in 0..<Self.dimension {
            #expect(abs(decoded[i] - expected[i]) <= bound, "coordinate \(i): \(decoded[i]) vs \(expected[i])")
        }
    }

    @Test(arguments: [
        ("bits", "a 24-bit ring and clip norm 2.0"),
        ("clip", "clip norm 5.0"),
        ("threshold", "threshold 1 of 3 members"),
        ("weight", "the weight 1.5 is not a share"),
        ("noise", "noise multiplier 1.0, this client's configuration says 0.0"),
    ])
    func anInvitationAgainstTheClientsRulesIsRefused(field: String, expected: String) {
        var invitation = Self.invitation(member: 1, weight: 0.5)
        switch field {
        case "bits": invitation.bits = 24
        case "clip": invitation.clipNorm = 5
        case "threshold": invitation.threshold = 1
        case "noise": invitation.noiseMultiplier = 1
        default: invitation.weight = 1.5
        }
        var member = CohortParticipant(section: Self.section, dimension: Self.dimension)
        let error = #expect(throws: RuntimeError.self) { try member.invited(runID: "r", cohort: 1, invitation) }
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "")")
        #expect(member.membership == nil)
    }

    @Test func aMessageOfAnotherCohortIsRefused() throws {
        var member = CohortParticipant(section: Self.section, dimension: Self.dimension)
        _ = try member.invited(runID: "r", cohort: 1, Self.invitation(member: 1, weight: 0.5))
        #expect(throws: RuntimeError.self) { try member.received([1, 2, 3], runID: "r", cohort: 2) }
    }

    /// A member re-assigned alone trains before its cohort forms: the update waits for the
    /// invitation of its version and is quantised then.
    @Test func anUpdateTrainedBeforeItsInvitationWaitsForIt() throws {
        var member = CohortParticipant(section: Self.section, dimension: Self.dimension)
        let report = CohortMessage.Report(updateID: 1, baseVersion: 4, stepsDone: 1, computeSeconds: 0, sampleCount: 1)
        #expect(try member.trained([1, 0, 0, 0, 0, 0], report: report) == nil)
        #expect(member.waiting?.report == report)
        _ = try member.invited(runID: "r", cohort: 1, Self.invitation(member: 1, weight: 0.5))
        #expect(member.waiting == nil)
        #expect(member.membership?.input?.report == report)
        // A new task ends that cohort for this member; its next update waits for a new one.
        member.taskStarted()
        #expect(member.membership == nil)
        #expect(try member.trained([0, 1, 0, 0, 0, 0], report: report) == nil)
        #expect(member.waiting?.report == report)
    }
}
