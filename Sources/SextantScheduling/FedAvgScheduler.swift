import Foundation
import SextantBase

/// Synchronous FedAvg (McMahan et al. 2017): rounds in which every participant trains the
/// same number of local steps from the same model; the round ends when all participants
/// have reported or at the round timeout, and the model moves by the sample-weighted mean
/// of the deltas that arrived. Optional Poisson client sampling per round. With
/// `serverMomentum` > 0 it is FedAvgM (Hsu et al. 2019): each aggregation carries the
/// momentum and the runtime steps the model by a velocity (see ``ServerOptimizer``).
///
/// With a ``Configuration/fixedDenominator`` D (client-level DP) the rounds are those of
/// DP-FedAvg (McMahan et al. 2018) under add/remove adjacency: each connected client takes
/// part with probability q, drawn from the operating system's secure generator (so the
/// adversary cannot predict who was sampled, and a restarted server does not replay it);
/// every participant's update has weight 1 and the round's coefficient is 1/D whoever
/// arrives, so adding or removing one client moves the step by at most C/D; and every
/// round ends in an aggregation, empty ones included, so that the noise is released
/// whether or not anyone took part (docs/design.md 7).
package struct FedAvgScheduler: Scheduler, Codable {
    package struct Configuration: Sendable, Codable, Equatable {
        /// Clients that must have joined before the first round starts.
        package var minimumClients: Int
        package var localSteps: Int
        /// Seconds a round waits for stragglers before aggregating what arrived.
        package var roundTimeout: Double
        package var weighting: Weighting
        /// Probability that a client takes part in a round (1: all of them).
        package var samplingRate: Double
        package var seed: UInt64
        /// Server momentum beta: 0 is plain FedAvg, FedAvgM uses 0.9.
        package var serverMomentum: Double
        /// Bounds on what claimed sample counts buy (nil in snapshots from before them: none).
        package var claimLimits: ClaimLimits?
        /// D, the expected cohort q·N that every round divides by (client-level DP's fixed
        /// denominator); nil: the weights are normalised over the updates that arrived.
        package var fixedDenominator: Double?

        package init(
            minimumClients: Int = 2, localSteps: Int = 50, roundTimeout: Double = 600,
            weighting: Weighting = .samples, samplingRate: Double = 1, seed: UInt64 = 1, serverMomentum: Double = 0,
            claimLimits: ClaimLimits = .none, fixedDenominator: Double? = nil
        ) {
            self.fixedDenominator = fixedDenominator
            self.minimumClients = minimumClients
            self.localSteps = localSteps
            self.roundTimeout = roundTimeout
            self.weighting = weighting
            self.claimLimits = claimLimits
            self.samplingRate = samplingRate
            self.seed = seed
            self.serverMomentum = serverMomentum
        }

        enum CodingKeys: String, CodingKey {
            case minimumClients, localSteps, roundTimeout, weighting, samplingRate, seed, serverMomentum, claimLimits
            case fixedDenominator
        }

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            minimumClients = try c.decode(Int.self, forKey: .minimumClients)
            localSteps = try c.decode(Int.self, forKey: .localSteps)
            roundTimeout = try c.decode(Double.self, forKey: .roundTimeout)
            weighting = try c.decode(Weighting.self, forKey: .weighting)
            samplingRate = try c.decode(Double.self, forKey: .samplingRate)
            seed = try c.decode(UInt64.self, forKey: .seed)
            // Absent from snapshots taken before FedAvgM existed.
            serverMomentum = try c.decodeIfPresent(Double.self, forKey: .serverMomentum) ?? 0
            claimLimits = try c.decodeIfPresent(ClaimLimits.self, forKey: .claimLimits)
            fixedDenominator = try c.decodeIfPresent(Double.self, forKey: .fixedDenominator)
        }
    }

    /// `.fedavgm` when the configuration has server momentum, else `.fedavg`.
    package var kind: SchedulerKind { configuration.serverMomentum > 0 ? .fedavgm : .fedavg }

    package private(set) var configuration: Configuration
    package private(set) var version: Int
    /// Connected clients and their sample counts.
    private var clients: [ClientID: Int] = [:]
    /// The current round's participants and their weights (nil between rounds): each one's
    /// share over the participants (``Weighting``, bounded by the claim limits). A round that
    /// ends without some of them renormalises over those that reported.
    private var participants: [ClientID: Double]?
    private var arrived: [UpdateInfo] = []
    private var generator: SeededGenerator

    static let roundTimer: TimerID = "fedavg-round"

    package init(configuration: Configuration, version: Int = 0) {
        self.configuration = configuration
        self.version = version
        generator = SeededGenerator(seed: configuration.seed)
    }

    package init(restoring data: Data) throws {
        struct Header: Decodable { var kind: SchedulerKind? }
        if (try? JSONDecoder().decode(Header.self, from: data))?.kind == nil {
            // A snapshot from before snapshots were tagged: the bare state.
            do {
                self = try JSONDecoder().decode(Self.self, from: data)
            } catch {
                throw SchedulerError(.corruptSnapshot, "the fedavg scheduler state cannot be read: \(error)")
            }
        } else {
            self = try TaggedSnapshot<Self>.decode(data, expecting: [.fedavg, .fedavgm])
        }
    }

    /// Also re-weighs the current round's participants, whose updates a restarted server
    /// replays.
    package mutating func limitClaims(_ limits: ClaimLimits) {
        configuration.claimLimits = limits
        if let participants { self.participants = weights(of: participants.keys.sorted()) }
    }

    /// The participants' shares of a round, over the participants only.
    private func weights(of chosen: [ClientID]) -> [ClientID: Double] {
        if configuration.fixedDenominator != nil {
            return Dictionary(uniqueKeysWithValues: chosen.map { ($0, 1.0) })
        }
        let samples = Dictionary(uniqueKeysWithValues: chosen.map { ($0, max(clients[$0] ?? 1, 1)) })
        let limits = configuration.claimLimits ?? .none
        return Dictionary(
            uniqueKeysWithValues: chosen.map {
                ($0, configuration.weighting.share(of: $0, samples: samples, limits: limits))
            })
    }

    package func snapshot() throws -> Data {
        try TaggedSnapshot.encode(self, kind: kind)
    }

    /// A participant's share of the current round, fixed when the round starts: the weight
    /// its update is accumulated with.
    package func contributionWeight(of client: ClientID) -> Double? {
        participants?[client]
    }

    private var bucket: BucketID { "round-\(version)" }

    package mutating func handle(_ event: SchedulerEvent, now: Double) -> [SchedulerAction] {
        switch event {
        case .joined(let client, let samples):
            clients[client] = samples
            guard let participants else {
                return clients.count >= configuration.minimumClients ? startRound(now: now) : [.wait(client)]
            }
            // A participant that rejoins before reporting lost its task (or the server
            // restarted): give it the round's task again.
            if participants[client] != nil && !arrived.contains(where: { $0.client == client }) {
                return [.assign(client, localSteps: configuration.localSteps)]
            }
            return [.wait(client)]

        case .updateArrived(let update):
            guard let participants, let weight = participants[update.client] else {
                return [.discard(updateID: update.id, reason: "no round is waiting for this client")]
            }
            guard update.baseVersion == version else {
                return [
                    .discard(
                        updateID: update.id,
                        reason: "trained on version \(update.baseVersion), the round is on \(version)")
                ]
            }
            guard !arrived.contains(where: { $0.client == update.client }) else {
                return [.discard(updateID: update.id, reason: "the client already reported in this round")]
            }
            arrived.append(update)
            var actions: [SchedulerAction] = [.accumulate(updateID: update.id, bucket: bucket, weight: weight)]
            if arrived.count == participants.count {
                actions += finishRound(now: now)
            }
            return actions

        case .timerFired(let id):
            guard id == Self.roundTimer, participants != nil else { return [] }
            return arrived.isEmpty && !releasesEveryRound ? startRound(now: now) : finishRound(now: now)

        case .modelApplied:
            return []
        case .lost(let client):
            clients[client] = nil
            guard var current = participants, current[client] != nil,
                !arrived.contains(where: { $0.client == client })
            else { return [] }
            current[client] = nil
            participants = current
            if current.isEmpty && !releasesEveryRound { return startRound(now: now) }
            return arrived.count == current.count ? finishRound(now: now) : []
        }
    }

    package mutating func resume(now: Double) -> [SchedulerAction] {
        participants == nil ? [] : [.setTimer(Self.roundTimer, at: now + configuration.roundTimeout)]
    }

    /// With a fixed denominator every round ends in an aggregation (its noise is released
    /// even when no update arrived).
    private var releasesEveryRound: Bool { configuration.fixedDenominator != nil }

    private mutating func finishRound(now: Double) -> [SchedulerAction] {
        let total = arrived.reduce(0.0) { $0 + (participants?[$1.client] ?? 0) }
        let coefficient: Double =
            if let denominator = configuration.fixedDenominator { 1 / denominator } else { total > 0 ? 1 / total : 0 }
        let aggregation = Aggregation(
            newVersion: version + 1,
            buckets: [BucketWeight(bucket: bucket, coefficient: coefficient)],
            updates: arrived.map { AppliedUpdate(id: $0.id, client: $0.client, staleness: 0) },
            serverMomentum: configuration.serverMomentum > 0 ? configuration.serverMomentum : nil)
        version += 1
        return [.cancelTimer(Self.roundTimer), .aggregate(aggregation)] + startRound(now: now)
    }

    private mutating func startRound(now: Double) -> [SchedulerAction] {
        arrived = []
        guard clients.count >= configuration.minimumClients || (participants != nil && !clients.isEmpty) else {
            participants = nil
            return clients.keys.sorted().map { .wait($0) }
        }
        var chosen: [ClientID]
        if releasesEveryRound {
            // Poisson sampling the adversary cannot predict; an empty round is a round.
            var secure = SystemRandomNumberGenerator()
            chosen = clients.keys.sorted().filter { _ in
                configuration.samplingRate >= 1 || Double.random(in: 0..<1, using: &secure) < configuration.samplingRate
            }
        } else {
            chosen = clients.keys.sorted().filter { _ in
                configuration.samplingRate >= 1 || generator.nextUnit() < configuration.samplingRate
            }
            if chosen.isEmpty, let any = clients.keys.sorted().randomElement(using: &generator) {
                chosen = [any]
            }
        }
        let weights = weights(of: chosen)
        participants = weights
        let waiting = clients.keys.sorted().filter { weights[$0] == nil }
        // A round nobody was sampled for ends at once (with its noise).
        let deadline = chosen.isEmpty ? now : now + configuration.roundTimeout
        return chosen.map { .assign($0, localSteps: configuration.localSteps) }
            + waiting.map { .wait($0) }
            + [.setTimer(Self.roundTimer, at: deadline)]
    }
}
