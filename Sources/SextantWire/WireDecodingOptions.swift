/// Limits the decoder enforces. The defaults suit any Sextant model; a server passes its
/// model's parameter count as `expectedPayloadCount` so a wrong-sized delta is refused.
public struct WireDecodingOptions: Sendable {
    /// The exact number of Float32 values a payload must have; nil accepts any count up
    /// to `maxPayloadCount`.
    public var expectedPayloadCount: Int?
    /// Largest payload accepted, in values. Default 2^28 (1 GiB).
    public var maxPayloadCount: Int
    /// Refuse a payload whose L2 norm exceeds this (`normTooLarge`); nil: no limit.
    public var maxPayloadNorm: Double?
    /// Largest metadata frame, in bytes. Default 64 KiB.
    public var maxMetadataBytes: Int
    /// Longest string field, in UTF-8 bytes. Default 4096.
    public var maxStringBytes: Int
    /// Copy the payload into an array (releasing the frame) instead of keeping the frame.
    public var copiesPayload: Bool

    public init(
        expectedPayloadCount: Int? = nil, maxPayloadCount: Int = 1 << 28,
        maxPayloadNorm: Double? = nil, maxMetadataBytes: Int = 65_536,
        maxStringBytes: Int = 4096, copiesPayload: Bool = false
    ) {
        self.expectedPayloadCount = expectedPayloadCount
        self.maxPayloadCount = maxPayloadCount
        self.maxPayloadNorm = maxPayloadNorm
        self.maxMetadataBytes = maxMetadataBytes
        self.maxStringBytes = maxStringBytes
        self.copiesPayload = copiesPayload
    }
}
