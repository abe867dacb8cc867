/// The message type byte of the header. Values are part of the protocol: never reuse one.
public enum WireMessageType: UInt8, Sendable, CaseIterable {
    case join = 1
    case assignment = 2
    case update = 3
    case heartbeat = 4
    case ack = 5
    case error = 6
    case bye = 7

    /// Whether messages of this type carry a Float32 payload frame.
    public var hasPayload: Bool { self == .assignment || self == .update }
}
