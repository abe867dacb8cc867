/// Client -> server: this client has a finished update and asks for an upload slot. The
/// server answers with an `uploadGrant` when one is free (docs/design.md section 4):
/// bounding the uploads in flight bounds the server's memory, since libzmq reads a whole
/// message from every peer that sends one.
public struct UploadRequestMessage: Sendable, Equatable {
    /// The id the update will carry, so the server's log can follow it.
    public var updateID: UInt64
    /// The global version the update was trained from.
    public var baseVersion: UInt64

    public init(updateID: UInt64, baseVersion: UInt64) {
        self.updateID = updateID
        self.baseVersion = baseVersion
    }
}

extension UploadRequestMessage: WireMetadata {
    init(reading reader: inout ByteReader, payload: FloatPayload?) throws(WireError) {
        updateID = try reader.read(UInt64.self, field: "uploadRequest.updateID")
        baseVersion = try reader.read(UInt64.self, field: "uploadRequest.baseVersion")
    }

    func write(to writer: inout ByteWriter) {
        writer.write(updateID)
        writer.write(baseVersion)
    }
}
