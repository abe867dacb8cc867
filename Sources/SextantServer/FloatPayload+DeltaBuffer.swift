import SextantAggregation
import SextantRuntime
import SextantWire

/// A received update's payload goes into the aggregation core as it is: the core sums it
/// straight from libzmq's buffer.
extension FloatPayload: DeltaBuffer {
    package func withFloats<Result>(_ body: (UnsafeBufferPointer<Float>) -> Result) -> Result {
        withUnsafeBufferPointer(body)
    }
}
