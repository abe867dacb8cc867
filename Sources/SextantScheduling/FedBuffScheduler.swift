import Foundation

/// FedBuff (Nguyen et al. 2022): arriving updates are buffered and, once `bufferSize` (K)
/// have arrived, applied together: `w <- w + sum_i alpha * S(tau_i) * p_i * delta_i`.
/// Every client gets the current model and a new task as soon as its update arrives.
///
/// Conventions as in ``FedAsyncScheduler`` (and APPFL's `FedBuffAggregator`): accumulate
/// weight `p_i` (share over every client seen), buckets keyed by base version
/// (`buff-v<base>`), coefficient `alpha * S(version - base)` at the flush. The version only
/// changes at a flush, so staleness at arrival and at the flush are the same.
/// `Sendable` value type, `Codable` for ``snapshot()``.
package struct FedBuffScheduler: Scheduler, Codable {
    package struct Configuration: Sendable, Codable, Equatable {
        /// Clients that must have joined before the first tasks go out.
        package var minimumClients: Int
        package var localSteps: Int
        /// K: updates per aggregation.
        package var bufferSize: Int
        /// Server mixing rate alpha.
        package var alpha: Double
        package var staleness: StalenessFunction
        package var weighting: Weighting
        /// Bounds on what claimed sample counts buy (nil in snapshots from before them: none).
        package var claimLimits: ClaimLimits?

        package init(
            minimumClients: Int = 1, localSteps: Int = 50, bufferSize: Int = 3, alpha: Double = 0.9,
            staleness: StalenessFunction = .polynomial(a: 0.5), weighting: Weighting = .samples,
            claimLimits: ClaimLimits = .none
        ) {
            self.minimumClients = minimumClients
            self.localSteps = localSteps
            self.bufferSize = bufferSize
            self.alpha = alpha
            self.staleness = staleness
            self.weighting = weighting
            self.claimLimits = claimLimits
        }
    }

    struct BufferedUpdate: Codable, Equatable {
        var id: Int64
        var client: ClientID
        var baseVersion: Int
        var weight: Double
    }

    package private(set) var configuration: Configuration
    package private(set) var version: Int
    var roster = ClientRoster()
    var buffer: [BufferedUpdate] = []

    package init(configuration: Configuration = Configuration(), version: Int = 0) {
        self.configuration = configuration
        self.version = version
    }

    package init(restoring data: Data) throws {
        self = try TaggedSnapshot<Self>.decode(data, expecting: [.fedbuff])
    }

    package mutating func limitClaims(_ limits: ClaimLimits) {
        configuration.claimLimits = limits
    }

    package func snapshot() throws -> Data {
        try TaggedSnapshot.encode(self, kind: .fedbuff)
    }

    /// Updates waiting for the next flush.
    package var bufferedUpdates: Int { buffer.count }

    package mutating func handle(_ event: SchedulerEvent, now: Double) -> [SchedulerAction] {
        switch event {
        case .joined(let client, let samples):
            guard let ready = roster.join(client, samples: samples, minimumClients: configuration.minimumClients) else {
                return [.wait(client)]
            }
            return ready.map { .assign($0, localSteps: configuration.localSteps) }
        case .updateArrived(let update):
            roster.arrived(update)
            let weight = roster.share(
                of: update.client, weighting: configuration.weighting, limits: configuration.claimLimits ?? .none)
            buffer.append(
                BufferedUpdate(id: update.id, client: update.client, baseVersion: update.baseVersion, weight: weight))
            var actions: [SchedulerAction] = [
                .accumulate(updateID: update.id, bucket: Self.bucket(base: update.baseVersion), weight: weight)
            ]
            if buffer.count >= configuration.bufferSize { actions.append(flush()) }
            actions.append(.assign(update.client, localSteps: configuration.localSteps))
            return actions
        case .timerFired:
            return []
        case .lost(let client):
            roster.lose(client)
            return []
        case .modelApplied:
            return []
        }
    }

    package mutating func resume(now: Double) -> [SchedulerAction] { [] }

    /// An update the restored snapshot lists in the buffer (see ``Scheduler/heldAccumulation(of:)``).
    package func heldAccumulation(of id: Int64) -> BucketWeight? {
        buffer.first { $0.id == id }.map {
            BucketWeight(bucket: Self.bucket(base: $0.baseVersion), coefficient: $0.weight)
        }
    }

    private mutating func flush() -> SchedulerAction {
        let buckets = Set(buffer.map(\.baseVersion)).sorted().map { base in
            BucketWeight(
                bucket: Self.bucket(base: base),
                coefficient: configuration.alpha * configuration.staleness(max(version - base, 0)))
        }
        let aggregation = Aggregation(
            newVersion: version + 1, buckets: buckets,
            updates: buffer.map {
                AppliedUpdate(id: $0.id, client: $0.client, staleness: max(version - $0.baseVersion, 0))
            })
        version += 1
        buffer = []
        return .aggregate(aggregation)
    }

    static func bucket(base: Int) -> BucketID { "buff-v\(base)" }
}
