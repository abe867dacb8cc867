/// Server -> client: the client is joined and there is no work for it now; an assignment
/// will follow when the scheduler has one (docs/design.md section 4).
public struct WaitMessage: Sendable, Equatable {
    /// The server's global version.
    public var modelVersion: UInt64

    public init(modelVersion: UInt64) {
        self.modelVersion = modelVersion
    }
}

extension WaitMessage: WireMetadata {
    init(reading reader: inout ByteReader, payload: FloatPayload?) throws(WireError) {
        modelVersion = try reader.read(UInt64.self, field: "wait.modelVersion")
    }

    func write(to writer: inout ByteWriter) {
        writer.write(modelVersion)
    }
}
