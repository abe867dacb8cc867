/// Either way: one step of secure aggregation in a cohort (docs/design.md 13). The server
/// invites a member with the cohort's parameters; after that both sides carry the protocol's
/// own messages (`SextantSecureAggregation`'s encoding, checked by that module) in the body
/// frame. The wire checks the header, the run and cohort, and the body's size; a masked
/// input's body holds the ring values, 4 bytes each.
public struct CohortMessage: Sendable, Equatable {
    /// What the server tells a member before the protocol starts.
    public struct Invitation: Sendable, Equatable {
        /// The member's id in the cohort (1-based).
        public var member: UInt32
        /// How many members were invited.
        public var members: UInt32
        /// Shares that recover a secret (the member also checks it against its own rule).
        public var threshold: UInt32
        /// Bits of the ring.
        public var bits: UInt8
        /// The L2 norm the member clips its update to; the ring's scale follows from it, the
        /// bits and `maxMembers`.
        public var clipNorm: Double
        /// The most members whose inputs are summed: the quantiser's scale is set for it.
        public var maxMembers: UInt32
        /// The scheduler's weight of this member's update: it multiplies its clipped delta by
        /// it before quantising, so that the cohort's sum is the weighted sum.
        public var weight: Double
        /// The model version of the task this cohort sums.
        public var baseVersion: UInt64
        /// Distributed DP's z (0: no noise); each member adds its share of the noise.
        public var noiseMultiplier: Double

        public init(
            member: UInt32, members: UInt32, threshold: UInt32, bits: UInt8, clipNorm: Double, maxMembers: UInt32,
            weight: Double, baseVersion: UInt64, noiseMultiplier: Double = 0
        ) {
            self.noiseMultiplier = noiseMultiplier
            self.member = member
            self.members = members
            self.threshold = threshold
            self.bits = bits
            self.clipNorm = clipNorm
            self.maxMembers = maxMembers
            self.weight = weight
            self.baseVersion = baseVersion
        }
    }

    /// What a member reports with its masked input, as an update does (docs/design.md 3):
    /// the scheduler needs them; the values themselves stay masked.
    public struct Report: Sendable, Equatable {
        /// The member's sequence number: the server acks it.
        public var updateID: UInt64
        public var baseVersion: UInt64
        public var stepsDone: UInt32
        public var computeSeconds: Double
        public var sampleCount: UInt64

        public init(
            updateID: UInt64, baseVersion: UInt64, stepsDone: UInt32, computeSeconds: Double, sampleCount: UInt64
        ) {
            self.updateID = updateID
            self.baseVersion = baseVersion
            self.stepsDone = stepsDone
            self.computeSeconds = computeSeconds
            self.sampleCount = sampleCount
        }
    }

    public enum Content: Sendable, Equatable {
        case invitation(Invitation)
        /// A protocol message, with the report when it is a masked input.
        case step(body: [UInt8], report: Report?)
        /// Client -> server: the task's update is trained and waits for a cohort; what an
        /// update reports, no values (a Compass member's announcement, docs/design.md 13).
        /// The cohort id is 0: none is formed yet.
        case ready(Report)
    }

    public var runID: String
    public var cohort: UInt64
    public var content: Content

    /// The largest body beside the ring values: keys, shares and ciphertexts of a cohort.
    public static let maxProtocolBytes = 8 << 20

    public init(runID: String, cohort: UInt64, content: Content) {
        self.runID = runID
        self.cohort = cohort
        self.content = content
    }

    /// The body frame: empty for an invitation.
    var body: [UInt8] {
        if case .step(let body, _) = content { return body }
        return []
    }
}

extension CohortMessage {
    init(reading reader: inout ByteReader, body: [UInt8]) throws(WireError) {
        runID = try reader.readString(field: "cohort.runID")
        cohort = try reader.read(UInt64.self, field: "cohort.cohort")
        switch try reader.read(UInt8.self, field: "cohort.kind") {
        case 0:
            guard body.isEmpty else { throw WireError(.malformed, "cohort invitation carries a body") }
            let invitation = Invitation(
                member: try reader.read(UInt32.self, field: "cohort.member"),
                members: try reader.read(UInt32.self, field: "cohort.members"),
                threshold: try reader.read(UInt32.self, field: "cohort.threshold"),
                bits: try reader.read(UInt8.self, field: "cohort.bits"),
                clipNorm: try reader.readDouble(field: "cohort.clipNorm"),
                maxMembers: try reader.read(UInt32.self, field: "cohort.maxMembers"),
                weight: try reader.readDouble(field: "cohort.weight"),
                baseVersion: try reader.read(UInt64.self, field: "cohort.baseVersion"),
                noiseMultiplier: try reader.readDouble(field: "cohort.noiseMultiplier"))
            try requireNonNegative(invitation.clipNorm, "cohort.clipNorm")
            try requireNonNegative(invitation.noiseMultiplier, "cohort.noiseMultiplier")
            try requireNonNegative(invitation.weight, "cohort.weight")
            guard (2...32).contains(invitation.bits) else {
                throw WireError(.malformed, "cohort.bits is \(invitation.bits), must be 2 to 32")
            }
            guard invitation.member >= 1, invitation.member <= invitation.members,
                invitation.members <= invitation.maxMembers, invitation.threshold >= 2,
                invitation.threshold < invitation.members
            else {
                throw WireError(
                    .malformed,
                    "cohort invitation of member \(invitation.member) of \(invitation.members) (at most \(invitation.maxMembers)) with threshold \(invitation.threshold)"
                )
            }
            content = .invitation(invitation)
        case 1:
            guard !body.isEmpty else { throw WireError(.malformed, "cohort step without a body") }
            var report: Report?
            if try reader.readBool(field: "cohort.report presence") {
                report = try Report(reading: &reader)
            }
            content = .step(body: body, report: report)
        case 2:
            guard body.isEmpty else { throw WireError(.malformed, "cohort ready claim carries a body") }
            content = .ready(try Report(reading: &reader))
        case let other:
            throw WireError(.malformed, "cohort.kind \(other) is not a known kind")
        }
    }

    func write(to writer: inout ByteWriter) {
        writer.write(runID)
        writer.write(cohort)
        switch content {
        case .invitation(let invitation):
            writer.write(UInt8(0))
            writer.write(invitation.member)
            writer.write(invitation.members)
            writer.write(invitation.threshold)
            writer.write(invitation.bits)
            writer.write(invitation.clipNorm)
            writer.write(invitation.maxMembers)
            writer.write(invitation.weight)
            writer.write(invitation.baseVersion)
            writer.write(invitation.noiseMultiplier)
        case .step(_, let report):
            writer.write(UInt8(1))
            writer.write(report != nil)
            report?.write(to: &writer)
        case .ready(let report):
            writer.write(UInt8(2))
            report.write(to: &writer)
        }
    }
}

extension CohortMessage.Report {
    init(reading reader: inout ByteReader) throws(WireError) {
        self.init(
            updateID: try reader.read(UInt64.self, field: "cohort.updateID"),
            baseVersion: try reader.read(UInt64.self, field: "cohort.baseVersion"),
            stepsDone: try reader.read(UInt32.self, field: "cohort.stepsDone"),
            computeSeconds: try reader.readDouble(field: "cohort.computeSeconds"),
            sampleCount: try reader.read(UInt64.self, field: "cohort.sampleCount"))
        try requireNonNegative(computeSeconds, "cohort.computeSeconds")
    }

    func write(to writer: inout ByteWriter) {
        writer.write(updateID)
        writer.write(baseVersion)
        writer.write(stepsDone)
        writer.write(computeSeconds)
        writer.write(sampleCount)
    }
}
