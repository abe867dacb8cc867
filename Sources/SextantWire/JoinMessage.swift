/// Client -> server, first message after connecting. The protocol version travels in the
/// header; the authenticated identity comes from the connection (`ZMQFrame.userID`).
public struct JoinMessage: Sendable, Equatable {
    public var clientName: String
    /// Training samples this client holds (the server's aggregation weight).
    public var sampleCount: UInt64
    /// Identifies the model architecture; the server refuses a client whose differs.
    public var modelFingerprint: String
    /// The last global version this client saw, when it rejoins after a disconnect.
    public var lastModelVersion: UInt64?
    /// Samples per class, for non-IID diagnostics; may be empty.
    public var classHistogram: [UInt32]
    /// Whether the client's configuration uses secure aggregation: a server whose run does
    /// otherwise refuses the join, before the client trains (docs/design.md 13).
    public var secureAggregation: Bool

    public init(
        clientName: String, sampleCount: UInt64, modelFingerprint: String,
        lastModelVersion: UInt64? = nil, classHistogram: [UInt32] = [], secureAggregation: Bool = false
    ) {
        self.clientName = clientName
        self.sampleCount = sampleCount
        self.modelFingerprint = modelFingerprint
        self.lastModelVersion = lastModelVersion
        self.classHistogram = classHistogram
        self.secureAggregation = secureAggregation
    }

    /// Most classes a histogram may list.
    public static let maxClasses = 65_536
}

extension JoinMessage: WireMetadata {
    init(reading reader: inout ByteReader, payload: FloatPayload?) throws(WireError) {
        clientName = try reader.readString(field: "join.clientName")
        guard !clientName.isEmpty else { throw WireError(.malformed, "join.clientName is empty") }
        sampleCount = try reader.read(UInt64.self, field: "join.sampleCount")
        modelFingerprint = try reader.readString(field: "join.modelFingerprint")
        lastModelVersion = try reader.readOptionalUInt64(field: "join.lastModelVersion")
        classHistogram = try reader.readUInt32Array(field: "join.classHistogram", maxCount: Self.maxClasses)
        secureAggregation = try reader.readBool(field: "join.secureAggregation")
    }

    func write(to writer: inout ByteWriter) {
        writer.write(clientName)
        writer.write(sampleCount)
        writer.write(modelFingerprint)
        writer.write(lastModelVersion)
        writer.write(classHistogram)
        writer.write(secureAggregation)
    }
}
