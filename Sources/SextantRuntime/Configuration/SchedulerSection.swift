import Foundation
import SextantScheduling

/// `scheduler:` — which algorithm orders the federation, and its parameters. Keys that do
/// not apply to the chosen kind are accepted and ignored, so switching `kind` is one edit.
package struct SchedulerSection: Sendable, Codable {
    /// compass | fedavg | fedavgm | fedasync | fedbuff (default fedavg).
    /// compass: FedCompass arrival groups (docs/design.md 5.1); fedavg: synchronous rounds;
    /// fedavgm: rounds with server momentum; fedasync: every update applied on arrival;
    /// fedbuff: updates applied `buffer_size` at a time.
    package var kind = "fedavg"
    /// All kinds: clients that must join before training starts (default 2).
    package var minClients = 2
    /// fedavg, fedavgm, fedasync, fedbuff: local steps per task (default 50). Compass sizes
    /// tasks itself between `min_local_steps` and `max_local_steps`.
    package var localSteps = 50
    /// fedavg, fedavgm: seconds a synchronous round waits for stragglers (default 300).
    package var roundTimeout = 300.0
    /// All kinds: samples (a client's share is its samples over all known clients' samples)
    /// or equal (1/N over the N known clients). Default samples.
    package var weighting = "samples"
    /// fedavg, fedavgm: probability that a client takes part in a round, in (0, 1] (default 1).
    package var samplingRate = 1.0
    /// compass: Qmin, the fewest local steps of a task (default 20).
    package var minLocalSteps = 20
    /// compass: Qmax, the most local steps, and every client's first task (default 100).
    package var maxLocalSteps = 100
    /// compass: m, weight of the newest speed measurement, in (0, 1] (default 0.9).
    package var speedMomentum = 0.9
    /// compass: lambda >= 1, a group's deadline as a multiple of its expected duration (default 1.5).
    package var latestTimeFactor = 1.5
    /// compass, fedasync, fedbuff: server mixing rate alpha > 0 (default 0.9).
    package var alpha = 0.9
    /// compass, fedasync, fedbuff: staleness discount S(tau): polynomial, (tau + 1)^(-a);
    /// hinge, 1 if tau <= b else 1 / (a (tau - b) + 1); or constant, 1 (default polynomial).
    package var staleness = "polynomial"
    /// The staleness function's a >= 0 (default 0.5).
    package var stalenessA = 0.5
    /// The hinge function's b >= 0 (default 4).
    package var stalenessB = 4.0
    /// fedbuff: K, updates per aggregation (default 3).
    package var bufferSize = 3
    /// fedavgm: server momentum beta in (0, 1) (default 0.9).
    package var serverMomentum = 0.9
    /// All kinds: the most training samples a client's join is believed (default 1000000).
    /// A client's claim above it, or above the count the operator declared on its
    /// allow-list line (`samples=N`), counts as that bound (docs/design.md 10).
    package var maxSamplesPerClient = 1_000_000
    /// All kinds: the largest share of an aggregation one client may have, in (0, 1]
    /// (default 0.5: no client outweighs all the others together). The excess goes to the
    /// others in proportion to their samples; 1 turns the cap off.
    package var maxClientShare = 0.5

    /// The bounds this section puts on claimed sample counts.
    package var claimLimits: ClaimLimits {
        ClaimLimits(maxSamplesPerClient: maxSamplesPerClient, maxClientShare: maxClientShare)
    }

    /// The sample count a client is weighed by: its claim, at most the count the operator
    /// declared for it on the allow-list and at most `max_samples_per_client`.
    package func boundedSamples(claimed: UInt64, declared: Int?) -> Int {
        min(Int(clamping: claimed), declared ?? .max, maxSamplesPerClient)
    }

    static let keys = KeySchema.map([
        "kind": .value, "min_clients": .value, "local_steps": .value, "round_timeout": .value,
        "weighting": .value, "sampling_rate": .value, "min_local_steps": .value, "max_local_steps": .value,
        "speed_momentum": .value, "latest_time_factor": .value, "alpha": .value, "staleness": .value,
        "staleness_a": .value, "staleness_b": .value, "buffer_size": .value, "server_momentum": .value,
        "max_samples_per_client": .value, "max_client_share": .value,
    ])

    enum CodingKeys: String, CodingKey {
        case kind, minClients = "min_clients", localSteps = "local_steps", roundTimeout = "round_timeout"
        case weighting, samplingRate = "sampling_rate"
        case minLocalSteps = "min_local_steps", maxLocalSteps = "max_local_steps", speedMomentum = "speed_momentum"
        case latestTimeFactor = "latest_time_factor", alpha, staleness, stalenessA = "staleness_a"
        case stalenessB = "staleness_b", bufferSize = "buffer_size", serverMomentum = "server_momentum"
        case maxSamplesPerClient = "max_samples_per_client", maxClientShare = "max_client_share"
    }

    package init() {}
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decodeIfPresent(String.self, forKey: .kind) ?? kind
        minClients = try c.decodeIfPresent(Int.self, forKey: .minClients) ?? minClients
        localSteps = try c.decodeIfPresent(Int.self, forKey: .localSteps) ?? localSteps
        roundTimeout = try c.decodeIfPresent(Double.self, forKey: .roundTimeout) ?? roundTimeout
        weighting = try c.decodeIfPresent(String.self, forKey: .weighting) ?? weighting
        samplingRate = try c.decodeIfPresent(Double.self, forKey: .samplingRate) ?? samplingRate
        minLocalSteps = try c.decodeIfPresent(Int.self, forKey: .minLocalSteps) ?? minLocalSteps
        maxLocalSteps = try c.decodeIfPresent(Int.self, forKey: .maxLocalSteps) ?? maxLocalSteps
        speedMomentum = try c.decodeIfPresent(Double.self, forKey: .speedMomentum) ?? speedMomentum
        latestTimeFactor = try c.decodeIfPresent(Double.self, forKey: .latestTimeFactor) ?? latestTimeFactor
        alpha = try c.decodeIfPresent(Double.self, forKey: .alpha) ?? alpha
        staleness = try c.decodeIfPresent(String.self, forKey: .staleness) ?? staleness
        stalenessA = try c.decodeIfPresent(Double.self, forKey: .stalenessA) ?? stalenessA
        stalenessB = try c.decodeIfPresent(Double.self, forKey: .stalenessB) ?? stalenessB
        bufferSize = try c.decodeIfPresent(Int.self, forKey: .bufferSize) ?? bufferSize
        serverMomentum = try c.decodeIfPresent(Double.self, forKey: .serverMomentum) ?? serverMomentum
        maxSamplesPerClient = try c.decodeIfPresent(Int.self, forKey: .maxSamplesPerClient) ?? maxSamplesPerClient
        maxClientShare = try c.decodeIfPresent(Double.self, forKey: .maxClientShare) ?? maxClientShare
    }

    func validate() throws {
        guard let kind = SchedulerKind(rawValue: kind) else {
            throw invalid(
                "scheduler.kind", "'\(self.kind)'",
                "use one of \(SchedulerKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard minClients > 0 else {
            throw invalid("scheduler.min_clients", minClients, "it must be a positive integer")
        }
        guard localSteps > 0 else {
            throw invalid("scheduler.local_steps", localSteps, "it must be a positive integer")
        }
        guard roundTimeout > 0, roundTimeout.isFinite else {
            throw invalid("scheduler.round_timeout", roundTimeout, "it must be a positive number of seconds")
        }
        guard Weighting(rawValue: weighting) != nil else {
            throw invalid("scheduler.weighting", "'\(weighting)'", "use samples or equal")
        }
        guard samplingRate > 0, samplingRate <= 1 else {
            throw invalid("scheduler.sampling_rate", samplingRate, "it must lie in (0, 1]")
        }
        guard minLocalSteps > 0 else {
            throw invalid("scheduler.min_local_steps", minLocalSteps, "it must be a positive integer")
        }
        guard maxLocalSteps >= minLocalSteps else {
            throw invalid(
                "scheduler.max_local_steps", maxLocalSteps, "it must be at least min_local_steps (\(minLocalSteps))")
        }
        guard speedMomentum > 0, speedMomentum <= 1 else {
            throw invalid("scheduler.speed_momentum", speedMomentum, "it must lie in (0, 1]")
        }
        guard latestTimeFactor >= 1, latestTimeFactor.isFinite else {
            throw invalid("scheduler.latest_time_factor", latestTimeFactor, "it must be a number >= 1")
        }
        guard alpha > 0, alpha.isFinite else { throw invalid("scheduler.alpha", alpha, "it must be a positive number") }
        guard ["polynomial", "hinge", "constant"].contains(staleness) else {
            throw invalid("scheduler.staleness", "'\(staleness)'", "use polynomial, hinge or constant")
        }
        guard stalenessA >= 0, stalenessA.isFinite else {
            throw invalid("scheduler.staleness_a", stalenessA, "it must be a number >= 0")
        }
        guard stalenessB >= 0, stalenessB.isFinite else {
            throw invalid("scheduler.staleness_b", stalenessB, "it must be a number >= 0")
        }
        guard bufferSize > 0 else {
            throw invalid("scheduler.buffer_size", bufferSize, "it must be a positive integer")
        }
        guard maxSamplesPerClient > 0 else {
            throw invalid(
                "scheduler.max_samples_per_client", maxSamplesPerClient,
                "it must be a positive number of samples, at least the largest client's")
        }
        guard maxClientShare > 0, maxClientShare <= 1 else {
            throw invalid(
                "scheduler.max_client_share", maxClientShare, "it must lie in (0, 1]; 1 lets one client have any share")
        }
        if kind == .fedavgm {
            guard serverMomentum > 0, serverMomentum < 1 else {
                throw invalid("scheduler.server_momentum", serverMomentum, "it must lie in (0, 1)")
            }
        }
    }

    private var stalenessFunction: StalenessFunction {
        switch staleness {
        case "hinge": .hinge(a: stalenessA, b: stalenessB)
        case "constant": .constant
        default: .polynomial(a: stalenessA)
        }
    }

    /// The scheduler this section describes, starting at `version`. `fixedDenominator`:
    /// fedavg/fedavgm rounds under client-level DP (``PrivacySection/fixedDenominator(_:)``).
    /// `secureAggregation`: Compass aggregates arrival groups only (docs/design.md 13).
    package func makeScheduler(
        seed: UInt64, version: Int = 0, fixedDenominator: Double? = nil, secureAggregation: Bool = false
    ) throws -> any Scheduler {
        try validate()
        let weighting = Weighting(rawValue: weighting)!
        switch SchedulerKind(rawValue: kind)! {
        case .compass:
            return CompassScheduler(
                configuration: .init(
                    minimumClients: minClients, minLocalSteps: minLocalSteps, maxLocalSteps: maxLocalSteps,
                    speedMomentum: speedMomentum, latestTimeFactor: latestTimeFactor, alpha: alpha,
                    staleness: stalenessFunction, weighting: weighting, claimLimits: claimLimits,
                    groupsOnly: secureAggregation),
                version: version)
        case .fedavg, .fedavgm:
            return FedAvgScheduler(
                configuration: .init(
                    minimumClients: minClients, localSteps: localSteps, roundTimeout: roundTimeout,
                    weighting: weighting, samplingRate: samplingRate, seed: seed,
                    serverMomentum: kind == "fedavgm" ? serverMomentum : 0, claimLimits: claimLimits,
                    fixedDenominator: fixedDenominator),
                version: version)
        case .fedasync:
            return FedAsyncScheduler(
                configuration: .init(
                    minimumClients: minClients, localSteps: localSteps, alpha: alpha, staleness: stalenessFunction,
                    weighting: weighting, claimLimits: claimLimits),
                version: version)
        case .fedbuff:
            return FedBuffScheduler(
                configuration: .init(
                    minimumClients: minClients, localSteps: localSteps, bufferSize: bufferSize, alpha: alpha,
                    staleness: stalenessFunction, weighting: weighting, claimLimits: claimLimits),
                version: version)
        }
    }

    /// Restores a scheduler from the state saved with a checkpoint. The snapshot records its
    /// kind; it must be the kind this section configures (a run cannot change algorithm
    /// midway). The restored scheduler keeps the parameters it was saved with, except the
    /// claim limits: those configured now apply, also to the sample counts it kept.
    package func restoreScheduler(from snapshot: [UInt8]) throws -> any Scheduler {
        try validate()
        let data = Data(snapshot)
        do {
            let saved = try SchedulerKind.of(snapshot: data)
            guard saved.rawValue == kind else {
                throw RuntimeError(
                    .invalidConfiguration,
                    "the checkpoint holds a \(saved.rawValue) scheduler but scheduler.kind is \(kind); resume with kind \(saved.rawValue) or start a new run with another database"
                )
            }
            var scheduler = try SchedulerKind.restoreScheduler(from: data)
            scheduler.limitClaims(claimLimits)
            return scheduler
        } catch let error as SchedulerError {
            throw RuntimeError(.storage, "cannot restore the scheduler: \(error.message)")
        }
    }
}

extension SchedulerSection {
    /// Clients expected in one aggregation event among `clients`: fedavg/fedavgm, a round's
    /// expected participants (clients × sampling_rate, at least 1); fedbuff, buffer_size;
    /// fedasync, 1; compass, every client (a group may hold them all).
    func expectedClientsPerEvent(clients: Int) -> Int {
        switch SchedulerKind(rawValue: kind) {
        case .fedavg, .fedavgm: max(1, Int((Double(clients) * samplingRate).rounded(.down)))
        case .fedbuff: max(1, bufferSize)
        case .fedasync: 1
        case .compass, nil: max(1, clients)
        }
    }
}
