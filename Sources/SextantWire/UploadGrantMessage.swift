/// Server -> client: an upload slot is the client's, send the update now
/// (docs/design.md section 4). A client with nothing to send ignores it.
public struct UploadGrantMessage: Sendable, Equatable {
    /// The server's global version when it granted the slot.
    public var modelVersion: UInt64

    public init(modelVersion: UInt64) {
        self.modelVersion = modelVersion
    }
}

extension UploadGrantMessage: WireMetadata {
    init(reading reader: inout ByteReader, payload: FloatPayload?) throws(WireError) {
        modelVersion = try reader.read(UInt64.self, field: "uploadGrant.modelVersion")
    }

    func write(to writer: inout ByteWriter) {
        writer.write(modelVersion)
    }
}
