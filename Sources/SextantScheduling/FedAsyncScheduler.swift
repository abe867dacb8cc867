import Foundation

/// FedAsync (Xie et al. 2019): every update is applied the moment it arrives,
/// `w <- w + alpha * S(tau) * p_c * delta` with `tau = version - base`, and the client is
/// sent the new model with another task at once.
///
/// `p_c` is the client's share of the federation: its samples over those of every client
/// the scheduler has seen join (`weighting: samples`), or 1/N over those N (`equal`). The
/// accumulate weight is `p_c`, the bucket (`async-u<update>`) coefficient `alpha * S(tau)`.
/// `Sendable` value type, `Codable` for ``snapshot()``.
package struct FedAsyncScheduler: Scheduler, Codable {
    package struct Configuration: Sendable, Codable, Equatable {
        /// Clients that must have joined before the first tasks go out.
        package var minimumClients: Int
        package var localSteps: Int
        /// Server mixing rate alpha.
        package var alpha: Double
        package var staleness: StalenessFunction
        package var weighting: Weighting
        /// Bounds on what claimed sample counts buy (nil in snapshots from before them: none).
        package var claimLimits: ClaimLimits?

        package init(
            minimumClients: Int = 1, localSteps: Int = 50, alpha: Double = 0.9,
            staleness: StalenessFunction = .polynomial(a: 0.5), weighting: Weighting = .samples,
            claimLimits: ClaimLimits = .none
        ) {
            self.minimumClients = minimumClients
            self.localSteps = localSteps
            self.alpha = alpha
            self.staleness = staleness
            self.weighting = weighting
            self.claimLimits = claimLimits
        }
    }

    package private(set) var configuration: Configuration
    package private(set) var version: Int
    var roster = ClientRoster()

    package init(configuration: Configuration = Configuration(), version: Int = 0) {
        self.configuration = configuration
        self.version = version
    }

    package init(restoring data: Data) throws {
        self = try TaggedSnapshot<Self>.decode(data, expecting: [.fedasync])
    }

    package mutating func limitClaims(_ limits: ClaimLimits) {
        configuration.claimLimits = limits
    }

    package func snapshot() throws -> Data {
        try TaggedSnapshot.encode(self, kind: .fedasync)
    }

    package mutating func handle(_ event: SchedulerEvent, now: Double) -> [SchedulerAction] {
        switch event {
        case .joined(let client, let samples):
            guard let ready = roster.join(client, samples: samples, minimumClients: configuration.minimumClients) else {
                return [.wait(client)]
            }
            return ready.map { .assign($0, localSteps: configuration.localSteps) }
        case .updateArrived(let update):
            roster.arrived(update)
            let tau = max(version - update.baseVersion, 0)
            let bucket = "async-u\(update.id)"
            let aggregation = Aggregation(
                newVersion: version + 1,
                buckets: [
                    BucketWeight(bucket: bucket, coefficient: configuration.alpha * configuration.staleness(tau))
                ],
                updates: [AppliedUpdate(id: update.id, client: update.client, staleness: tau)])
            version += 1
            return [
                .accumulate(
                    updateID: update.id, bucket: bucket,
                    weight: roster.share(
                        of: update.client, weighting: configuration.weighting,
                        limits: configuration.claimLimits ?? .none)),
                .aggregate(aggregation), .assign(update.client, localSteps: configuration.localSteps),
            ]
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
}
