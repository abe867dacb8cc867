/// Counts how many updates an aggregation clipped, which DP-FedAvg reports: a clip norm
/// that clips nearly everything (or nothing) is mis-set.
///
/// `Sendable`: a plain value.
public struct ClippingTally: Sendable, Equatable, CustomStringConvertible {
    /// Updates seen.
    public private(set) var count = 0
    /// Updates that were scaled down or zeroed.
    public private(set) var clippedCount = 0
    /// The largest finite norm seen before clipping.
    public private(set) var largestNorm = 0.0

    public init() {}

    /// Records one clipping outcome.
    public mutating func record(_ outcome: L2Clipping.Outcome) {
        count += 1
        if outcome.wasClipped { clippedCount += 1 }
        if outcome.normBeforeClipping.isFinite && outcome.normBeforeClipping > largestNorm {
            largestNorm = outcome.normBeforeClipping
        }
    }

    /// The fraction of updates clipped (0 when none were seen).
    public var clippedFraction: Double { count == 0 ? 0 : Double(clippedCount) / Double(count) }

    public var description: String { "\(clippedCount) of \(count) updates clipped" }
}
