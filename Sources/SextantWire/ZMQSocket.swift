import CZeroMQ

/// A libzmq socket.
///
/// Not `Sendable`: libzmq sockets are not thread-safe. One thread owns a socket (see
/// `SocketThread`); blocking calls here must never run on the Swift cooperative pool.
public final class ZMQSocket {
    let handle: UnsafeMutableRawPointer
    /// Kept so the context is terminated only after this socket is closed.
    public let context: ZMQContext
    public let type: ZMQSocketType
    public private(set) var isClosed = false

    public init(context: ZMQContext, type: ZMQSocketType) throws(WireError) {
        guard let handle = zmq_socket(context.handle, type.rawValue) else {
            throw WireError(errno: zmq_errno(), operation: "zmq_socket")
        }
        self.handle = handle
        self.context = context
        self.type = type
    }

    deinit { close() }

    /// Closes the socket. Unsent messages are kept for at most the linger period, which
    /// libzmq's I/O thread handles after this returns.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        zmq_close(handle)
    }

    // MARK: - Options

    public func setOption(_ option: ZMQSocketOption) throws(WireError) {
        switch option {
        case .linger(let value), .sendHighWaterMark(let value), .receiveHighWaterMark(let value),
            .heartbeatInterval(let value), .heartbeatTimeout(let value), .heartbeatTTL(let value),
            .reconnectInterval(let value), .reconnectIntervalMax(let value),
            .sendTimeout(let value), .receiveTimeout(let value), .tcpKeepaliveIdle(let value),
            .tcpKeepaliveInterval(let value), .tcpKeepaliveCount(let value), .tcpMaxRetransmitTimeout(let value):
            try setRaw(option, value)
        case .routerMandatory(let flag), .routerHandover(let flag), .immediate(let flag), .curveServer(let flag),
            .ipv6(let flag), .tcpKeepalive(let flag):
            try setRaw(option, Int32(flag ? 1 : 0))
        case .curvePublicKey(let key), .curveSecretKey(let key), .curveServerKey(let key):
            try setBytes(option, key.bytes)
        case .zapDomain(let domain):
            try setBytes(option, Array(domain.utf8))
        case .maxMessageSize(let value):
            try setRaw(option, value)
        case .routingID(let bytes):
            guard (1...255).contains(bytes.count) else {
                throw WireError(.invalidArgument, "a routing id must be 1 to 255 bytes, got \(bytes.count)")
            }
            try setBytes(option, bytes)
        }
    }

    private func setBytes(_ option: ZMQSocketOption, _ bytes: [UInt8]) throws(WireError) {
        try zmqCall("zmq_setsockopt(\(option.label))") {
            bytes.withUnsafeBytes { zmq_setsockopt(handle, option.name, $0.baseAddress, $0.count) }
        }
    }

    public func setOptions(_ options: [ZMQSocketOption]) throws(WireError) {
        for option in options { try setOption(option) }
    }

    private func setRaw<Value: FixedWidthInteger>(_ option: ZMQSocketOption, _ value: Value) throws(WireError) {
        try zmqCall("zmq_setsockopt(\(option.label))") {
            withUnsafeBytes(of: value) { zmq_setsockopt(handle, option.name, $0.baseAddress, $0.count) }
        }
    }

    /// The endpoint last bound or connected, with the actual port after binding to port 0
    /// or "*", e.g. "tcp://127.0.0.1:43817".
    public var lastEndpoint: String? {
        var buffer = [CChar](repeating: 0, count: 1024)
        var size = buffer.count
        guard zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else { return nil }
        let text = String(cCharBuffer: buffer)
        return text.isEmpty ? nil : text
    }

    // MARK: - Endpoints

    /// Binds `endpoint`; an IPv6 address in brackets (`tcp://[::1]:5555`) turns on `ipv6` first.
    public func bind(to endpoint: String) throws(WireError) {
        try enableIPv6(for: endpoint)
        try zmqCall("bind to \(endpoint)") { zmq_bind(handle, endpoint) }
    }

    public func unbind(from endpoint: String) throws(WireError) {
        try zmqCall("unbind from \(endpoint)") { zmq_unbind(handle, endpoint) }
    }

    /// Connects to `endpoint`; an IPv6 address in brackets turns on `ipv6` first.
    public func connect(to endpoint: String) throws(WireError) {
        try enableIPv6(for: endpoint)
        try zmqCall("connect to \(endpoint)") { zmq_connect(handle, endpoint) }
    }

    /// libzmq refuses IPv6 addresses unless the socket's `ZMQ_IPV6` is set; it is left off
    /// otherwise, so an IPv4 wildcard bind stays IPv4 only.
    private func enableIPv6(for endpoint: String) throws(WireError) {
        guard endpoint.hasPrefix("tcp://[") else { return }
        try setOption(.ipv6(true))
    }

    public func disconnect(from endpoint: String) throws(WireError) {
        try zmqCall("disconnect from \(endpoint)") { zmq_disconnect(handle, endpoint) }
    }

    // MARK: - Multipart messages

    /// Sends `frames` as one multipart message. With `blocking: false` a full queue (or,
    /// on a ROUTER, a full or unknown peer) fails with `wouldBlock` / `hostUnreachable`
    /// before any frame is queued: libzmq only refuses a message at its first frame.
    public func send(_ frames: [OutboundFrame], blocking: Bool = true) throws(WireError) {
        let message = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
        defer { message.deallocate() }
        let dontWait = blocking ? 0 : ZMQ_DONTWAIT
        for (index, frame) in frames.enumerated() {
            try frame.initialize(message)
            let flags = dontWait | (index < frames.count - 1 ? ZMQ_SNDMORE : 0)
            do {
                try zmqCall("send frame \(index + 1) of \(frames.count)") {
                    zmq_msg_send(message, handle, flags)
                }
            } catch {
                // A message libzmq refused still belongs to us (and may hold a retained box).
                zmq_msg_close(message)
                throw error
            }
        }
    }

    /// Receives one frame. With `blocking: false`, fails with `wouldBlock` when none waits.
    public func receiveFrame(blocking: Bool = true) throws(WireError) -> ZMQFrame {
        let message = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
        zmq_msg_init(message)
        do {
            try zmqCall("receive") { zmq_msg_recv(message, handle, blocking ? 0 : ZMQ_DONTWAIT) }
        } catch {
            zmq_msg_close(message)
            message.deallocate()
            throw error
        }
        return ZMQFrame(taking: message, hasMore: zmq_msg_more(message) != 0)
    }

    /// Receives all frames of one multipart message. Only the first frame honours
    /// `blocking: false`: the rest of a message always arrives with its first frame.
    public func receiveMessage(blocking: Bool = true) throws(WireError) -> [ZMQFrame] {
        var frames = [try receiveFrame(blocking: blocking)]
        while frames[frames.count - 1].hasMore {
            frames.append(try receiveFrame(blocking: true))
        }
        return frames
    }

    // MARK: - Plain byte copies (the libzmq baseline the benchmark compares against)

    /// `zmq_send`: copies `bytes` into a new message and sends it.
    public func sendBytes(_ bytes: UnsafeRawBufferPointer, more: Bool = false) throws(WireError) {
        try zmqCall("zmq_send") {
            zmq_send(handle, bytes.baseAddress, bytes.count, more ? ZMQ_SNDMORE : 0)
        }
    }

    /// `zmq_recv`: copies the next frame into `buffer` and returns the frame's full size
    /// (larger than the buffer if it was truncated).
    public func receiveBytes(into buffer: UnsafeMutableRawBufferPointer) throws(WireError) -> Int {
        Int(try zmqCall("zmq_recv") { zmq_recv(handle, buffer.baseAddress, buffer.count, 0) })
    }

    /// Whether the frame last received is followed by more frames of its message.
    public var hasMoreFrames: Bool {
        var more: Int32 = 0
        var size = MemoryLayout<Int32>.size
        return zmq_getsockopt(handle, ZMQ_RCVMORE, &more, &size) == 0 && more != 0
    }
}
