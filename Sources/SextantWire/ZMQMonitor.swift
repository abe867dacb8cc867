import CZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// Connection events of one socket (`zmq_socket_monitor`), read from a PAIR socket that
/// the socket's owner thread polls along with the socket itself.
public final class ZMQMonitor {
    /// An event as libzmq reports it: what happened, a value (a file descriptor, an
    /// errno or a protocol error code, depending on the event) and the endpoint.
    public struct Event: Sendable, Equatable {
        public var kind: Kind
        public var value: UInt32
        public var endpoint: String
    }

    public enum Kind: Sendable, Equatable {
        case accepted, connected, disconnected
        case handshakeSucceeded
        /// The peer spoke another security mechanism, or sent bad CURVE messages
        /// (e.g. encrypted to a wrong server key); `value` is the protocol error code.
        case handshakeFailedProtocol
        /// The ZAP handler refused the peer; `value` is its status code (400).
        case handshakeFailedAuthentication
        case handshakeFailedNoDetail
        case other(UInt16)

        init(_ raw: UInt16) {
            switch Int32(raw) {
            case ZMQ_EVENT_ACCEPTED: self = .accepted
            case ZMQ_EVENT_CONNECTED: self = .connected
            case ZMQ_EVENT_DISCONNECTED: self = .disconnected
            case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: self = .handshakeSucceeded
            case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: self = .handshakeFailedProtocol
            case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: self = .handshakeFailedAuthentication
            case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: self = .handshakeFailedNoDetail
            default: self = .other(raw)
            }
        }
    }

    /// The PAIR socket to poll for readability.
    public let socket: ZMQSocket

    /// Starts monitoring `target` (call on the thread that owns it) for connection,
    /// handshake and disconnection events.
    public init(_ target: ZMQSocket, name: String) throws(WireError) {
        let endpoint = "inproc://sextant-monitor-\(name)"
        let events =
            ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED
            | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
            | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
        try zmqCall("zmq_socket_monitor") { zmq_socket_monitor(target.handle, endpoint, events) }
        socket = try ZMQSocket(context: target.context, type: .pair)
        try socket.setOption(.linger(milliseconds: 0))
        try socket.connect(to: endpoint)
    }

    deinit { socket.close() }

    /// The next event, or nil if none is waiting.
    public func next() -> Event? {
        guard let frames = try? socket.receiveMessage(blocking: false), frames.count >= 2 else { return nil }
        let header = frames[0].bytes
        guard header.count >= 6 else { return nil }
        let raw = UInt16(header[0]) | UInt16(header[1]) << 8
        let value = header[2..<6].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
        return Event(kind: Kind(raw), value: value, endpoint: String(decoding: frames[1].bytes, as: UTF8.self))
    }

    /// The remote address of a connected TCP socket, e.g. "10.0.0.7:51234".
    public static func peerAddress(ofDescriptor descriptor: Int32) -> String? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(descriptor, $0, &length) == 0 }
        }
        guard ok else { return nil }
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var port = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let status = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo(
                    $0, length, &host, socklen_t(host.count), &port, socklen_t(port.count),
                    NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        guard status == 0 else { return nil }
        return "\(String(cCharBuffer: host)):\(String(cCharBuffer: port))"
    }
}
