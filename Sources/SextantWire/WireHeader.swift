/// The fixed 16-byte first frame of every message, little endian:
///
///     offset 0  magic "SXT1"      4 bytes
///     offset 4  protocol version  UInt16
///     offset 6  message type      UInt8
///     offset 7  flags             UInt8   (bit 0: a payload frame follows)
///     offset 8  metadata length   UInt32  (bytes in frame 2)
///     offset 12 payload count     UInt32  (Float32 values in frame 3)
public struct WireHeader: Sendable, Equatable {
    public static let magic: [UInt8] = Array("SXT1".utf8)
    public static let byteCount = 16

    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let hasPayload = Flags(rawValue: 1)
        static let known: Flags = [.hasPayload]
    }

    public var version: UInt16
    public var type: WireMessageType
    public var flags: Flags
    public var metadataLength: UInt32
    public var payloadCount: UInt32

    public init(
        version: UInt16 = WireCodec.protocolVersion, type: WireMessageType, flags: Flags,
        metadataLength: UInt32, payloadCount: UInt32
    ) {
        self.version = version
        self.type = type
        self.flags = flags
        self.metadataLength = metadataLength
        self.payloadCount = payloadCount
    }

    public var encoded: [UInt8] {
        var writer = ByteWriter(capacity: Self.byteCount)
        for byte in Self.magic { writer.write(byte) }
        writer.write(version)
        writer.write(type.rawValue)
        writer.write(flags.rawValue)
        writer.write(metadataLength)
        writer.write(payloadCount)
        return writer.bytes
    }

    /// Checks magic and version before the length, so a peer with a newer, longer header
    /// hears "unsupported version" rather than "malformed".
    public init(decoding bytes: [UInt8]) throws(WireError) {
        guard bytes.count >= 4, Array(bytes[0..<4]) == Self.magic else {
            throw WireError(.malformed, "header does not start with the magic \"SXT1\": not a Sextant message")
        }
        guard bytes.count >= 6 else {
            throw WireError(.malformed, "header frame is \(bytes.count) bytes, expected \(Self.byteCount)")
        }
        var reader = ByteReader(bytes)
        _ = try reader.read(UInt32.self, field: "magic")
        let version = try reader.read(UInt16.self, field: "protocol version")
        guard version == WireCodec.protocolVersion else {
            throw WireError(
                .unsupportedVersion,
                "unsupported protocol version \(version), this peer speaks version \(WireCodec.protocolVersion)",
                peerVersion: version)
        }
        guard bytes.count == Self.byteCount else {
            throw WireError(.malformed, "header frame is \(bytes.count) bytes, expected \(Self.byteCount)")
        }
        let rawType = try reader.read(UInt8.self, field: "message type")
        guard let type = WireMessageType(rawValue: rawType) else {
            throw WireError(.unknownType, "unknown message type \(rawType)")
        }
        let flags = Flags(rawValue: try reader.read(UInt8.self, field: "flags"))
        guard Flags.known.isSuperset(of: flags) else {
            throw WireError(.malformed, "unknown header flags 0x\(String(flags.rawValue, radix: 16))")
        }
        self.init(
            version: version, type: type, flags: flags,
            metadataLength: try reader.read(UInt32.self, field: "metadata length"),
            payloadCount: try reader.read(UInt32.self, field: "payload count"))
    }
}
