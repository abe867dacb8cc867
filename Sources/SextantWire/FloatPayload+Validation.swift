import SextantBase

extension FloatPayload {
    /// Whether every value is finite: one pass over the buffer. Tests the exponent bits
    /// with a max-reduction, which the compiler vectorises (a branch per value does not).
    public static func allFinite(_ values: UnsafeBufferPointer<Float>) -> Bool {
        guard let base = values.baseAddress else { return true }
        let exponentMask: UInt32 = 0x7F80_0000
        return UnsafeRawPointer(base).withMemoryRebound(to: UInt32.self, capacity: values.count) { bits in
            var largest: UInt32 = 0
            for index in 0..<values.count {
                largest = max(largest, bits[index] & exponentMask)
            }
            return largest != exponentMask
        }
    }

    /// The L2 norm, accumulated in Double (``VectorMath/l2Norm(_:)``).
    public static func l2Norm(_ values: UnsafeBufferPointer<Float>) -> Double { VectorMath.l2Norm(values) }

    public var allFinite: Bool { withUnsafeBufferPointer { Self.allFinite($0) } }
    public var l2Norm: Double { withUnsafeBufferPointer { Self.l2Norm($0) } }
}
