/// Server -> client: the update with this id is stored and will not be lost; the client
/// stops retrying it.
public struct AckMessage: Sendable, Equatable {
    public var updateID: UInt64
    /// The global version the update was (or will be) applied to; 0 if not yet known.
    public var acceptedVersion: UInt64

    public init(updateID: UInt64, acceptedVersion: UInt64) {
        self.updateID = updateID
        self.acceptedVersion = acceptedVersion
    }
}

extension AckMessage: WireMetadata {
    init(reading reader: inout ByteReader, payload: FloatPayload?) throws(WireError) {
        updateID = try reader.read(UInt64.self, field: "ack.updateID")
        acceptedVersion = try reader.read(UInt64.self, field: "ack.acceptedVersion")
    }

    func write(to writer: inout ByteWriter) {
        writer.write(updateID)
        writer.write(acceptedVersion)
    }
}
