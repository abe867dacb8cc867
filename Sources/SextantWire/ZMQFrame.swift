import CZeroMQ

/// One received frame, owning its libzmq message: the bytes are read where libzmq put them
/// (large messages are received straight into their own buffer), with no copy.
///
/// `Sendable`: a frame is immutable once received; reading a message's data and metadata
/// is read-only in libzmq, and closing it (in `deinit`) releases a refcount atomically.
public final class ZMQFrame: Sendable {
    // Heap-allocated because libzmq keeps small messages inside the zmq_msg_t itself and
    // forbids moving it; never mutated after init, so shared reads are safe.
    nonisolated(unsafe) let message: UnsafeMutablePointer<zmq_msg_t>

    /// Whether more frames of the same multipart message followed this one.
    public let hasMore: Bool

    /// Takes ownership of an initialised message.
    init(taking message: UnsafeMutablePointer<zmq_msg_t>, hasMore: Bool) {
        self.message = message
        self.hasMore = hasMore
    }

    /// A frame holding a copy of `bytes`, for tests and for decoding data that did not
    /// come from a socket.
    public convenience init(bytes: some Collection<UInt8>) {
        let message = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
        // Only fails on ENOMEM, which Swift treats as fatal everywhere else too.
        precondition(zmq_msg_init_size(message, bytes.count) == 0, "zmq_msg_init_size failed")
        if let data = zmq_msg_data(message) {
            UnsafeMutableRawBufferPointer(start: data, count: bytes.count).copyBytes(from: bytes)
        }
        self.init(taking: message, hasMore: false)
    }

    deinit {
        zmq_msg_close(message)
        message.deallocate()
    }

    /// Number of bytes in the frame.
    public var count: Int { zmq_msg_size(message) }

    /// Calls `body` with the frame's bytes, valid only during the call.
    public func withUnsafeBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        let size = zmq_msg_size(message)
        guard size > 0, let data = zmq_msg_data(message) else {
            return try body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        return try body(UnsafeRawBufferPointer(start: data, count: size))
    }

    /// A copy of the frame's bytes.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// A metadata property libzmq attached to the received message, e.g. "User-Id" (set by
    /// a ZAP handler), "Peer-Address", "Socket-Type" or "Routing-Id"; nil if absent.
    public func property(_ name: String) -> String? {
        guard let value = zmq_msg_gets(message, name) else { return nil }
        return String(cString: value)
    }

    /// The authenticated identity a ZAP handler assigned to the connection, if any.
    public var userID: String? { property("User-Id").flatMap { $0.isEmpty ? nil : $0 } }

    /// The IP address of the peer that sent this frame, if known.
    public var peerAddress: String? { property("Peer-Address") }
}
