import CZeroMQ

/// Turns a server socket's monitor events into "refused a connection from PEER because
/// REASON": libzmq reports a failed handshake with the listening endpoint only, so the
/// peer is taken from the connection's file descriptor when it was accepted.
///
/// With one I/O thread, the failure and the disconnection of the same connection follow
/// each other in the event stream, which is what ties a failure to its descriptor.
public struct HandshakeWatcher: Sendable {
    public struct Refusal: Sendable, Equatable {
        public var peer: String
        public var reason: String
        /// Refusals of the same host not reported since the last one that was.
        public var suppressed: Int
    }

    /// A host that retries in a loop is reported at most once per this many seconds.
    static let reportInterval = 10.0

    private var peers: [UInt32: String] = [:]
    private var failure: String?
    private var lastReport: [String: (time: Double, suppressed: Int)] = [:]

    public init() {}

    /// Feeds one event at time `now` (seconds); returns a refusal to report when a
    /// connection that failed its handshake closes. `peerOf` looks up the address of a
    /// descriptor (injected for tests).
    public mutating func observe(
        _ event: ZMQMonitor.Event, now: Double, peerOf: (Int32) -> String? = ZMQMonitor.peerAddress(ofDescriptor:)
    ) -> Refusal? {
        switch event.kind {
        case .accepted:
            peers[event.value] = peerOf(Int32(bitPattern: event.value)) ?? "unknown peer"
        case .handshakeFailedProtocol:
            failure = Self.describeProtocolError(event.value)
        case .handshakeFailedNoDetail:
            failure = "the handshake failed: a client without CURVE, or with another server key?"
        case .handshakeFailedAuthentication:
            // The ZAP handler has logged the peer and the key already.
            failure = nil
        case .disconnected:
            let peer = peers.removeValue(forKey: event.value)
            defer { failure = nil }
            if let reason = failure {
                return throttled(Refusal(peer: peer ?? "unknown peer", reason: reason, suppressed: 0), now: now)
            }
        case .connected, .handshakeSucceeded, .other:
            break
        }
        return nil
    }

    private mutating func throttled(_ refusal: Refusal, now: Double) -> Refusal? {
        let host = String(refusal.peer[..<(refusal.peer.lastIndex(of: ":") ?? refusal.peer.endIndex)])
        if lastReport.count > 10_000 { lastReport = lastReport.filter { now - $0.value.time < Self.reportInterval } }
        if let last = lastReport[host], now - last.time < Self.reportInterval {
            lastReport[host]?.suppressed += 1
            return nil
        }
        var reported = refusal
        reported.suppressed = lastReport[host]?.suppressed ?? 0
        lastReport[host] = (now, 0)
        return reported
    }

    /// libzmq's ZMQ_PROTOCOL_ERROR_* codes that a misconfigured or hostile client causes.
    static func describeProtocolError(_ code: UInt32) -> String {
        switch Int32(bitPattern: code) {
        case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
            "the client does not use CURVE (security mechanism mismatch)"
        case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
            "the client's CURVE messages could not be decrypted (wrong server public key?)"
        case ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED...ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA:
            "the authentication handler failed"
        default:
            "handshake protocol error 0x\(String(code, radix: 16))"
        }
    }
}
