import CZeroMQ

/// A frame to send. Float arrays are sent without copying: libzmq reads the array's
/// storage directly and releases it when the bytes have left.
public enum OutboundFrame: Sendable, Equatable {
    case bytes([UInt8])
    /// Raw little-endian Float32 values, sent zero-copy.
    case floats([Float])

    /// Number of bytes on the wire.
    public var byteCount: Int {
        switch self {
        case .bytes(let bytes): bytes.count
        case .floats(let floats): floats.count * MemoryLayout<Float>.size
        }
    }

    /// Initialises `message` with this frame's bytes; the caller owns the message.
    func initialize(_ message: UnsafeMutablePointer<zmq_msg_t>) throws(WireError) {
        switch self {
        case .bytes(let bytes):
            try zmqCall("zmq_msg_init_size") { zmq_msg_init_size(message, bytes.count) }
            if !bytes.isEmpty, let data = zmq_msg_data(message) {
                bytes.withUnsafeBytes { source in
                    data.copyMemory(from: source.baseAddress!, byteCount: source.count)
                }
            }
        case .floats(let floats):
            try Self.initializeZeroCopy(message, floats: floats)
        }
    }

    private static func initializeZeroCopy(
        _ message: UnsafeMutablePointer<zmq_msg_t>, floats: [Float]
    ) throws(WireError) {
        if floats.isEmpty {
            try zmqCall("zmq_msg_init") { zmq_msg_init(message) }
            return
        }
        #if _endian(big)
            let box = FloatStorageBox(floats.map { Float(bitPattern: $0.bitPattern.littleEndian) })
        #else
            let box = FloatStorageBox(floats)
        #endif
        let retained = Unmanaged.passRetained(box)
        let result = zmq_msg_init_data(
            message, UnsafeMutableRawPointer(mutating: box.baseAddress),
            box.byteCount, releaseFloatStorage, retained.toOpaque())
        if result != 0 {
            retained.release()
            throw WireError(errno: zmq_errno(), operation: "zmq_msg_init_data")
        }
    }
}

/// Keeps an array's storage alive while libzmq owns a message pointing into it.
final class FloatStorageBox {
    let floats: [Float]
    let baseAddress: UnsafeRawPointer
    let byteCount: Int

    init(_ floats: [Float]) {
        self.floats = floats
        // A native Swift array's storage never moves while it is alive and not mutated;
        // the box owns the only reference libzmq relies on, and never mutates it.
        let base = self.floats.withUnsafeBytes { $0.baseAddress! }
        self.baseAddress = base
        self.byteCount = floats.count * MemoryLayout<Float>.size
    }
}

/// Called by libzmq (on one of its I/O threads) once the message's bytes are sent.
private func releaseFloatStorage(_ data: UnsafeMutableRawPointer?, _ hint: UnsafeMutableRawPointer?) {
    guard let hint else { return }
    Unmanaged<FloatStorageBox>.fromOpaque(hint).release()
}
