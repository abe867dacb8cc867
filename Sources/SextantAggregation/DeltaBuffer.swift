/// A model-sized vector of Float32 values that the aggregation core can read in place: a
/// local array, or (in the server) the buffer a client's update arrived in, so that a
/// received delta is summed straight from the network buffer without a copy.
///
/// `Sendable`: implementations are immutable values.
package protocol DeltaBuffer: Sendable {
    var count: Int { get }
    /// Calls `body` with the values, valid only during the call.
    func withFloats<Result>(_ body: (UnsafeBufferPointer<Float>) -> Result) -> Result
}

extension Array: DeltaBuffer where Element == Float {
    package func withFloats<Result>(_ body: (UnsafeBufferPointer<Float>) -> Result) -> Result {
        withUnsafeBufferPointer(body)
    }
}
