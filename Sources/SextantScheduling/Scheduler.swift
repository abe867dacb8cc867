import Foundation

/// A federated scheduler: a state machine driven by events and a clock, returning the
/// actions the server performs. It knows nothing of sockets or storage, so the daemon and
/// the virtual-clock simulator run the same code, and tests need no I/O.
package protocol Scheduler: Sendable {
    /// The model version the scheduler believes is current (incremented per aggregation).
    var version: Int { get }

    mutating func handle(_ event: SchedulerEvent, now: Double) -> [SchedulerAction]

    /// Called once after a restored scheduler starts on a new clock (a restarted server):
    /// re-arms the timers that the previous process had, measured from `now`.
    mutating func resume(now: Double) -> [SchedulerAction]

    /// The scheduler's state, to checkpoint with each aggregation and restore on restart.
    func snapshot() throws -> Data

    /// Bounds what clients' sample counts can buy them from now on, including counts that
    /// a restored snapshot kept from before the bounds (docs/design.md 10).
    mutating func limitClaims(_ limits: ClaimLimits)

    /// The bucket and weight of an update this scheduler already holds in a buffer. After
    /// a restart the driver replays every acknowledged, unaggregated update; one that the
    /// restored snapshot already lists is accumulated again into this bucket and never
    /// reaches ``handle(_:now:)`` twice. Schedulers that buffer nothing across events
    /// return nil (the default).
    func heldAccumulation(of update: Int64) -> BucketWeight?

    /// The weight with which this scheduler will accumulate the update `client` is now
    /// training, when it is fixed at assignment; nil when it is only known at arrival (the
    /// default). Under secure aggregation a member multiplies its delta by this weight
    /// before masking, since the server only ever holds the cohort's sum (docs/design.md 13).
    func contributionWeight(of client: ClientID) -> Double?
}

extension Scheduler {
    package func heldAccumulation(of update: Int64) -> BucketWeight? { nil }
    package func contributionWeight(of client: ClientID) -> Double? { nil }
}

/// What a client's claimed number of training samples can buy it. A claim is the client's
/// word, so every weighting bounds it (docs/design.md 10). Sendable.
package struct ClaimLimits: Sendable, Codable, Equatable {
    /// A count above this weighs as this much.
    package var maxSamplesPerClient: Int
    /// No client's share of an aggregation exceeds this, in (0, 1]; the excess goes to the
    /// other clients in proportion to their samples. Below 1/N for N clients it cannot
    /// hold, and every client gets 1/N.
    package var maxClientShare: Double

    package init(maxSamplesPerClient: Int = .max, maxClientShare: Double = 1) {
        self.maxSamplesPerClient = maxSamplesPerClient
        self.maxClientShare = maxClientShare
    }

    /// No bound: a share in proportion to the samples claimed.
    package static let none = ClaimLimits()
}

/// How a client's share of an aggregation is weighted.
package enum Weighting: String, Sendable, Codable, CaseIterable {
    /// In proportion to the client's number of training samples.
    case samples
    /// Every client counts the same.
    case equal
}

/// The discount applied to an update trained on a model `staleness` versions old.
package enum StalenessFunction: Sendable, Equatable, Codable {
    case constant
    /// `(tau + 1)^(-a)`
    case polynomial(a: Double)
    /// `1` if `tau <= b`, else `1 / (a (tau - b) + 1)`
    case hinge(a: Double, b: Double)

    package func callAsFunction(_ staleness: Int) -> Double {
        let tau = Double(max(staleness, 0))
        switch self {
        case .constant: return 1
        case .polynomial(let a): return pow(tau + 1, -a)
        case .hinge(let a, let b): return tau <= b ? 1 : 1 / (a * (tau - b) + 1)
        }
    }
}
