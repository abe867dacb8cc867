/// An error of the wire layer: a transport failure from libzmq or a message that failed
/// validation. The code is stable to match on; the message names the problem for a user.
public struct WireError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        // Transport (libzmq)
        /// EAGAIN: a non-blocking call could not proceed, or a send/receive timeout expired.
        case wouldBlock
        /// EHOSTUNREACH: a ROUTER with `ROUTER_MANDATORY` has no peer with that routing id.
        case hostUnreachable
        /// The socket or its context is closed or terminating.
        case closed
        /// An endpoint or option value libzmq rejected.
        case invalidArgument
        /// The endpoint's address is already bound by someone else.
        case addressInUse
        /// Any other errno from libzmq.
        case system

        // Protocol (each maps to an `ErrorReplyMessage.Code` that can be sent to the peer)
        case malformed
        case unsupportedVersion
        case unknownType
        case wrongPayloadSize
        case nonFinite
        case normTooLarge
        case notJoined
        case fingerprintMismatch
        case rejected
        case overloaded
        case `internal`
    }

    public var code: Code
    public var message: String
    /// The errno behind a transport error, if any.
    public var errno: Int32?
    /// For `unsupportedVersion` read off a header: the protocol version the peer speaks.
    public var peerVersion: UInt16?

    public init(_ code: Code, _ message: String, errno: Int32? = nil, peerVersion: UInt16? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
        self.peerVersion = peerVersion
    }

    public var description: String { message }

    /// The code to put in an `ErrorReplyMessage` when this error is reported to the peer.
    public var replyCode: ErrorReplyMessage.Code {
        switch code {
        case .malformed: .malformed
        case .unsupportedVersion: .unsupportedVersion
        case .unknownType: .unknownType
        case .wrongPayloadSize: .wrongPayloadSize
        case .nonFinite: .nonFinite
        case .normTooLarge: .normTooLarge
        case .notJoined: .notJoined
        case .fingerprintMismatch: .fingerprintMismatch
        case .rejected: .rejected
        case .overloaded: .overloaded
        case .internal, .wouldBlock, .hostUnreachable, .closed, .invalidArgument,
            .addressInUse, .system:
            .internal
        }
    }

    /// The error to raise when a peer sent an `ErrorReplyMessage`.
    public init(reply: ErrorReplyMessage) {
        let code: Code =
            switch reply.code {
            case .malformed: .malformed
            case .unsupportedVersion: .unsupportedVersion
            case .unknownType: .unknownType
            case .wrongPayloadSize: .wrongPayloadSize
            case .nonFinite: .nonFinite
            case .normTooLarge: .normTooLarge
            case .notJoined: .notJoined
            case .fingerprintMismatch: .fingerprintMismatch
            case .rejected, .unsolicited, .tooStale: .rejected
            case .overloaded: .overloaded
            case .internal: .internal
            }
        self.init(code, reply.text)
    }
}
