import SextantRuntime
import SextantSecureAggregation
import SextantWire

/// A client's side of secure aggregation (docs/design.md 13): it takes the server's
/// invitation (checked against the client's own configuration, never taken on trust), runs
/// the key rounds while the task trains, masks its clipped, weighted, quantised update once
/// both are ready, and answers the unmasking request. Messages in, messages out; the driver
/// (``FederationClient``) sends what it returns.
///
/// Not `Sendable`: it holds the member's private keys; one owner drives it.
struct CohortParticipant {
    /// One cohort this client was invited to.
    struct Membership {
        var runID: String
        var cohort: UInt64
        var invitation: CohortMessage.Invitation
        var machine: SecureAggregationClient
        var quantizer: RingQuantizer
        /// Distributed DP: this member's discrete Gaussian in ring units (nil: none).
        var noise: DiscreteGaussianSampler?
        var delivery: SecureAggregationMessage.ShareDelivery?
        /// The update in the ring, once trained, with what the server is told of it.
        var input: (values: [UInt32], report: CohortMessage.Report)?
        var sentInput = false
    }

    let section: SecureAggregationSection
    let dimension: Int
    private(set) var membership: Membership?
    /// A trained update whose cohort has not invited this member yet (it was re-assigned
    /// alone and waits for the others, docs/design.md 13): quantised once the invitation for
    /// its version comes.
    private(set) var waiting: (delta: [Float], report: CohortMessage.Report)?

    init(section: SecureAggregationSection, dimension: Int) {
        self.section = section
        self.dimension = dimension
    }

    /// A new task starts: a cohort of an earlier task is over for this member (the
    /// invitation for the new task follows its assignment), and so is an update waiting for it.
    mutating func taskStarted() {
        membership = nil
        waiting = nil
    }

    /// The invitation's parameters must be the client's own (bits, clip norm), its threshold
    /// no lower than the client's rule for a cohort of that size, and its weight a share in
    /// (0, 1]; then the member advertises its keys.
    mutating func invited(runID: String, cohort: UInt64, _ invitation: CohortMessage.Invitation) throws(RuntimeError)
        -> CohortMessage
    {
        membership = nil
        let members = Int(invitation.members)
        let minimum = section.threshold(cohort: members)
        guard Int(invitation.bits) == section.bits, invitation.clipNorm == section.clipNorm else {
            throw RuntimeError(
                .rejected,
                "cohort \(cohort): the server asks for a \(invitation.bits)-bit ring and clip norm \(invitation.clipNorm), this client's configuration says \(section.bits) and \(section.clipNorm ?? 0)"
            )
        }
        guard Int(invitation.threshold) >= minimum else {
            throw RuntimeError(
                .rejected,
                "cohort \(cohort): the server asks for threshold \(invitation.threshold) of \(members) members, this client's rule needs at least \(minimum)"
            )
        }
        guard invitation.noiseMultiplier == section.noiseMultiplier ?? 0 else {
            throw RuntimeError(
                .rejected,
                "cohort \(cohort): the server asks for noise multiplier \(invitation.noiseMultiplier), this client's configuration says \(section.noiseMultiplier ?? 0)"
            )
        }
        guard invitation.weight > 0, invitation.weight <= 1 else {
            throw RuntimeError(.rejected, "cohort \(cohort): the weight \(invitation.weight) is not a share in (0, 1]")
        }
        let quantizer: RingQuantizer
        let noise: DiscreteGaussianSampler?
        do {
            quantizer = try section.quantizer(members: Int(invitation.maxMembers), dimension: dimension)
            noise = try section.sampler(for: quantizer)
        } catch let error as RuntimeError {
            throw error
        } catch {
            throw RuntimeError(.rejected, "cohort \(cohort): \(error)")
        }
        do {
            var machine = try SecureAggregationClient(
                configuration: .init(
                    cohort: cohort, member: invitation.member, threshold: Int(invitation.threshold),
                    bits: section.bits, dimension: dimension))
            let keys = try machine.advertiseKeys()
            membership = Membership(
                runID: runID, cohort: cohort, invitation: invitation, machine: machine, quantizer: quantizer,
                noise: noise)
            if let waiting, waiting.report.baseVersion == invitation.baseVersion {
                self.waiting = nil
                try encode(waiting.delta, report: waiting.report)
            }
            return Self.message(runID: runID, cohort: cohort, .advertiseKeys(keys))
        } catch {
            throw RuntimeError(.rejected, "cohort \(cohort): \(error.message)")
        }
    }

    /// A protocol message from the server; returns the answer, if any is due now.
    mutating func received(_ body: [UInt8], runID: String, cohort: UInt64) throws(RuntimeError) -> CohortMessage? {
        guard var current = membership, current.cohort == cohort, current.runID == runID else {
            throw RuntimeError(
                .rejected,
                "a message for cohort \(cohort), this client is in \(membership.map { "\($0.cohort)" } ?? "none")")
        }
        var generator = SystemRandomNumberGenerator()
        do throws(SecureAggregationError) {
            let answer: SecureAggregationMessage?
            switch try SecureAggregationMessage(decoding: body) {
            case .keyRoster(let roster):
                answer = .encryptedShares(try current.machine.shareKeys(roster, using: &generator))
            case .shareDelivery(let delivery):
                current.delivery = delivery
                answer = nil
            case .unmaskRequest(let request):
                answer = .unmaskShares(try current.machine.unmask(request))
            case .advertiseKeys, .encryptedShares, .maskedInput, .unmaskShares:
                throw SecureAggregationError(.malformedMessage, "a member's message sent to a member")
            }
            membership = current
            guard let answer else { return try maskIfReady() }
            return Self.message(runID: runID, cohort: cohort, answer)
        } catch {
            throw RuntimeError(.rejected, "cohort \(cohort): \(error.message)")
        }
    }

    /// The task's delta is trained: clipped to the clip norm, multiplied by the member's
    /// weight, quantised into the ring; returns the masked input if the shares are here.
    /// Without an invitation for its version yet, it waits for one (nil).
    mutating func trained(_ delta: [Float], report: CohortMessage.Report) throws(RuntimeError) -> CohortMessage? {
        guard let current = membership, current.invitation.baseVersion == report.baseVersion else {
            waiting = (delta, report)
            return nil
        }
        do throws(SecureAggregationError) {
            try encode(delta, report: report)
            return try maskIfReady()
        } catch {
            throw RuntimeError(.rejected, "cohort \(current.cohort): \(error.message)")
        }
    }

    /// Clips, weighs, quantises (and noises) `delta` as the membership's input.
    private mutating func encode(_ delta: [Float], report: CohortMessage.Report) throws(SecureAggregationError) {
        guard var current = membership else { return }
        var squared = 0.0
        for value in delta { squared += Double(value) * Double(value) }
        let norm = squared.squareRoot()
        let clip = current.invitation.clipNorm
        let factor = Float((norm > clip ? clip / norm : 1) * current.invitation.weight)
        var generator = SystemRandomNumberGenerator()
        let weighted = delta.map { $0 * factor }
        var values = try weighted.withUnsafeBufferPointer { (buffer) throws(SecureAggregationError) in
            try current.quantizer.encode(buffer, using: &generator)
        }
        if let noise = current.noise {
            // From the system's secure generator: the server must not predict it.
            try noise.addNoise(to: &values)
            let ring = current.quantizer.mask
            for index in values.indices { values[index] &= ring }
        }
        current.input = (values, report)
        membership = current
    }

    /// Masks the input once both the trained update and the neighbours' shares are here.
    private mutating func maskIfReady() throws(SecureAggregationError) -> CohortMessage? {
        guard var current = membership, let delivery = current.delivery, let input = current.input,
            !current.sentInput
        else { return nil }
        let masked = try current.machine.maskInput(delivery, input: input.values)
        current.sentInput = true
        current.input = nil
        membership = current
        return CohortMessage(
            runID: current.runID, cohort: current.cohort,
            content: .step(body: SecureAggregationMessage.maskedInput(masked).encoded(), report: input.report))
    }

    private static func message(runID: String, cohort: UInt64, _ message: SecureAggregationMessage) -> CohortMessage {
        CohortMessage(runID: runID, cohort: cohort, content: .step(body: message.encoded(), report: nil))
    }
}
