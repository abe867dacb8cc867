import CZeroMQ

/// A socket option with its value. Durations are in milliseconds, as libzmq takes them.
public enum ZMQSocketOption: Sendable, Equatable {
    /// How long `close` may keep unsent messages (libzmq's default, -1, blocks forever).
    case linger(milliseconds: Int32)
    /// Messages (not bytes) queued per peer before sends block or fail; default 1000.
    case sendHighWaterMark(Int32)
    case receiveHighWaterMark(Int32)
    /// ROUTER: fail with `hostUnreachable` instead of silently dropping to unknown peers.
    case routerMandatory(Bool)
    /// ROUTER: a new connection with a routing id already in use takes it over.
    case routerHandover(Bool)
    /// Largest inbound message in bytes (-1: no limit). The sender is disconnected silently.
    case maxMessageSize(Int64)
    /// The routing id this socket announces to a ROUTER (1 to 255 bytes).
    case routingID([UInt8])
    /// ZMTP heartbeats: detect dead links, not idle clients.
    case heartbeatInterval(milliseconds: Int32)
    case heartbeatTimeout(milliseconds: Int32)
    case heartbeatTTL(milliseconds: Int32)
    case reconnectInterval(milliseconds: Int32)
    case reconnectIntervalMax(milliseconds: Int32)
    /// Blocking send/receive give up after this long (-1: never) with `wouldBlock`.
    case sendTimeout(milliseconds: Int32)
    case receiveTimeout(milliseconds: Int32)
    /// Queue messages only to completed connections.
    case immediate(Bool)
    /// Acts as the CURVE server: authenticates with `curveSecretKey`, asks the context's
    /// ZAP handler about each client key.
    case curveServer(Bool)
    /// This socket's own CURVE keys (server and client).
    case curvePublicKey(CurveKey)
    case curveSecretKey(CurveKey)
    /// Client: the public key of the server it connects to.
    case curveServerKey(CurveKey)
    /// The ZAP domain sent with each authentication request.
    case zapDomain(String)
    /// Lets the socket bind and connect IPv6 addresses (`tcp://[::1]:5555`); a bind of
    /// `*` then takes IPv4 and IPv6. Off by default in libzmq.
    case ipv6(Bool)
    /// The kernel's TCP keepalive (`SO_KEEPALIVE`), with its idle time and probe interval
    /// in seconds and the unanswered probes that end the connection: dead links found
    /// without ZMTP heartbeats.
    case tcpKeepalive(Bool)
    case tcpKeepaliveIdle(seconds: Int32)
    case tcpKeepaliveInterval(seconds: Int32)
    case tcpKeepaliveCount(Int32)
    /// `TCP_USER_TIMEOUT`: a connection whose sent data stays unacknowledged this long is
    /// dropped (a peer host that vanished while data was in flight).
    case tcpMaxRetransmitTimeout(milliseconds: Int32)

    var name: Int32 {
        switch self {
        case .linger: ZMQ_LINGER
        case .sendHighWaterMark: ZMQ_SNDHWM
        case .receiveHighWaterMark: ZMQ_RCVHWM
        case .routerMandatory: ZMQ_ROUTER_MANDATORY
        case .routerHandover: ZMQ_ROUTER_HANDOVER
        case .maxMessageSize: ZMQ_MAXMSGSIZE
        case .routingID: ZMQ_ROUTING_ID
        case .heartbeatInterval: ZMQ_HEARTBEAT_IVL
        case .heartbeatTimeout: ZMQ_HEARTBEAT_TIMEOUT
        case .heartbeatTTL: ZMQ_HEARTBEAT_TTL
        case .reconnectInterval: ZMQ_RECONNECT_IVL
        case .reconnectIntervalMax: ZMQ_RECONNECT_IVL_MAX
        case .sendTimeout: ZMQ_SNDTIMEO
        case .receiveTimeout: ZMQ_RCVTIMEO
        case .immediate: ZMQ_IMMEDIATE
        case .curveServer: ZMQ_CURVE_SERVER
        case .curvePublicKey: ZMQ_CURVE_PUBLICKEY
        case .curveSecretKey: ZMQ_CURVE_SECRETKEY
        case .curveServerKey: ZMQ_CURVE_SERVERKEY
        case .zapDomain: ZMQ_ZAP_DOMAIN
        case .ipv6: ZMQ_IPV6
        case .tcpKeepalive: ZMQ_TCP_KEEPALIVE
        case .tcpKeepaliveIdle: ZMQ_TCP_KEEPALIVE_IDLE
        case .tcpKeepaliveInterval: ZMQ_TCP_KEEPALIVE_INTVL
        case .tcpKeepaliveCount: ZMQ_TCP_KEEPALIVE_CNT
        case .tcpMaxRetransmitTimeout: ZMQ_TCP_MAXRT
        }
    }
}

extension ZMQSocketOption {
    /// The option for error messages, without key material.
    var label: String {
        switch self {
        case .curvePublicKey: "curvePublicKey"
        case .curveSecretKey: "curveSecretKey"
        case .curveServerKey: "curveServerKey"
        default: "\(self)"
        }
    }
}
