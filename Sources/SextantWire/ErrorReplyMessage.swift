/// Either way: the request was refused, with a code to act on and a text for a person.
public struct ErrorReplyMessage: Sendable, Equatable {
    /// Values are part of the protocol: never reuse one.
    public enum Code: UInt16, Sendable, CaseIterable {
        case malformed = 1
        case unsupportedVersion = 2
        case unknownType = 3
        case wrongPayloadSize = 4
        case nonFinite = 5
        case normTooLarge = 6
        case notJoined = 7
        case fingerprintMismatch = 8
        case rejected = 9
        case overloaded = 10
        case `internal` = 11
        /// An update that answers no task the server gave this client.
        case unsolicited = 12
        /// An update older than the server accepts (`server.max_staleness`).
        case tooStale = 13
    }

    public var code: Code
    public var text: String

    public init(code: Code, text: String) {
        self.code = code
        self.text = text
    }

    /// The reply that reports `error` to the peer.
    public init(_ error: WireError) {
        self.init(code: error.replyCode, text: error.message)
    }
}

extension ErrorReplyMessage: WireMetadata {
    init(reading reader: inout ByteReader, payload: FloatPayload?) throws(WireError) {
        let raw = try reader.read(UInt16.self, field: "error.code")
        guard let code = Code(rawValue: raw) else {
            throw WireError(.malformed, "error.code \(raw) is not a known error code")
        }
        self.code = code
        text = try reader.readString(field: "error.text")
    }

    func write(to writer: inout ByteWriter) {
        writer.write(code.rawValue)
        writer.write(text)
    }
}
