/// A flat Float32 parameter vector: either an array (built locally, sent zero-copy) or a
/// received frame read in place, so the server can aggregate from libzmq's buffer.
public struct FloatPayload: Sendable {
    enum Storage: Sendable {
        case array([Float])
        case frame(ZMQFrame)
    }

    let storage: Storage
    /// The L2 norm, when the decoder measured it (for `max_update_norm`), so that nothing
    /// on the update's path measures it again.
    public internal(set) var measuredL2Norm: Double?

    public init(_ floats: [Float]) { storage = .array(floats) }

    /// Wraps a received frame whose length is a multiple of 4 (checked by the decoder).
    init(frame: ZMQFrame) { storage = .frame(frame) }

    public var count: Int {
        switch storage {
        case .array(let floats): floats.count
        case .frame(let frame): frame.count / MemoryLayout<Float>.size
        }
    }

    /// Whether the values are read straight from a received frame.
    public var isReceivedFrame: Bool {
        if case .frame = storage { return true }
        return false
    }

    /// Calls `body` with the values. A received frame is read in place when it is 4-byte
    /// aligned and the host is little endian (always, in practice); otherwise it is copied.
    public func withUnsafeBufferPointer<Result, Failure: Error>(
        _ body: (UnsafeBufferPointer<Float>) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        switch storage {
        case .array(let floats):
            return try floats.withUnsafeBufferPointer { (buffer) throws(Failure) in try body(buffer) }
        case .frame(let frame):
            return try frame.withUnsafeBytes { (raw) throws(Failure) in
                #if _endian(little)
                    if let base = raw.baseAddress,
                        Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0
                    {
                        let count = raw.count / MemoryLayout<Float>.size
                        // The bytes are only ever read as Float32 while bound here.
                        let floats = base.bindMemory(to: Float.self, capacity: count)
                        return try body(UnsafeBufferPointer(start: floats, count: count))
                    }
                #endif
                let copy = Self.copyLittleEndian(raw)
                return try copy.withUnsafeBufferPointer { (buffer) throws(Failure) in try body(buffer) }
            }
        }
    }

    /// The values as an array: free for a local array, one copy for a received frame.
    public var floats: [Float] {
        switch storage {
        case .array(let floats): floats
        case .frame(let frame): frame.withUnsafeBytes { Self.copyLittleEndian($0) }
        }
    }

    /// The frame to send: the array itself (zero-copy) or a copy of a received frame.
    var outboundFrame: OutboundFrame { .floats(floats) }

    private static func copyLittleEndian(_ raw: UnsafeRawBufferPointer) -> [Float] {
        let count = raw.count / MemoryLayout<Float>.size
        guard count > 0 else { return [] }
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count {
                let bits = raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)
                buffer[index] = Float(bitPattern: UInt32(littleEndian: bits))
            }
            initialized = count
        }
    }
}

extension FloatPayload: Equatable {
    /// Element-wise equality (so NaN payloads are never equal).
    public static func == (lhs: FloatPayload, rhs: FloatPayload) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.withUnsafeBufferPointer { left in
            rhs.withUnsafeBufferPointer { right in left.elementsEqual(right) }
        }
    }
}

extension FloatPayload: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: Float...) { self.init(elements) }
}
