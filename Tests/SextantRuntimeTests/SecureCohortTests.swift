import SextantSecureAggregation
import SextantWire
import Testing

@testable import SextantServer

/// The server's checks of who sent a protocol message (docs/design.md 13, "Who may say
/// what"), before the state machine sees it.
@Suite struct SecureCohortTests {
    static let id: UInt64 = 42

    static func makeCohort() throws -> SecureCohort {
        let members: [String: UInt32] = ["a": 1, "b": 2, "c": 3]
        return SecureCohort(
            id: id, version: 0, members: members, clients: [1: "a", 2: "b", 3: "c"],
            weights: ["a": 0.3, "b": 0.3, "c": 0.4],
            quantizer: try RingQuantizer(configuration: .init(clipNorm: 1, maxMembers: 3), dimension: 4), noise: nil,
            machine: try SecureAggregationServer(
                configuration: .init(cohort: id, members: [1, 2, 3], threshold: 2, dimension: 4)))
    }

    /// The keys member `member` advertises in cohort `cohort`, encoded.
    static func advert(member: UInt32, cohort: UInt64 = id) throws -> [UInt8] {
        var client = try SecureAggregationClient(
            configuration: .init(cohort: cohort, member: member, threshold: 2, dimension: 4))
        return SecureAggregationMessage.advertiseKeys(try client.advertiseKeys()).encoded()
    }

    static func refusal(_ result: Result<SecureAggregationMessage, SecureCohort.Refusal>) -> SecureCohort.Refusal? {
        if case .failure(let refusal) = result { return refusal }
        return nil
    }

    @Test func aMemberSpeakingForItselfPasses() throws {
        let cohort = try Self.makeCohort()
        guard case .success(.advertiseKeys(let keys)) = cohort.check(try Self.advert(member: 2), from: "b") else {
            Issue.record("member b's own keys were refused")
            return
        }
        #expect(keys.member == 2)
    }

    @Test func aMemberClaimingAnotherMembersIdIsRefused() throws {
        let cohort = try Self.makeCohort()
        let refusal = Self.refusal(cohort.check(try Self.advert(member: 3), from: "b"))
        #expect(refusal?.code == .unsolicited)
        #expect(refusal?.text == "client b is member 2 of cohort 42, its message claims otherwise")
    }

    @Test func aMessageNamingAnotherCohortIsRefused() throws {
        let cohort = try Self.makeCohort()
        #expect(Self.refusal(cohort.check(try Self.advert(member: 2, cohort: 7), from: "b"))?.code == .unsolicited)
    }

    @Test func strangersAndMembersThatLeftAreRefused() throws {
        var cohort = try Self.makeCohort()
        #expect(
            Self.refusal(cohort.check(try Self.advert(member: 1), from: "stranger"))?.text
                == "client stranger is not a member of cohort 42")
        cohort.gone.insert("a")
        #expect(Self.refusal(cohort.check(try Self.advert(member: 1), from: "a"))?.code == .unsolicited)
    }

    @Test func bytesThatDoNotDecodeAreMalformed() throws {
        let cohort = try Self.makeCohort()
        #expect(Self.refusal(cohort.check([0x53, 0x41, 1, 99], from: "a"))?.code == .malformed)
    }

    /// The state machine sees only what passed: a duplicate still changes nothing there.
    @Test func aDuplicateThatPassesIsRefusedByTheStateMachine() throws {
        var cohort = try Self.makeCohort()
        let advert = try Self.advert(member: 1)
        guard case .success(let step) = cohort.check(advert, from: "a") else {
            Issue.record("refused")
            return
        }
        try cohort.machine.receive(step)
        #expect(throws: SecureAggregationError.self) { try cohort.machine.receive(step) }
    }
}
