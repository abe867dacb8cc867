import Foundation
import SextantPrivacy
import SextantScheduling

/// `privacy:` — differential privacy of a federation (DESIGN.md 7). Off by default.
///
/// A setting that cannot be honoured is refused at start with a message naming the key: a
/// run that silently trained without the promised guarantee would be worse than no run.
/// Any privacy key given while `mode` is `none` is refused for the same reason.
///
/// `Sendable`: a plain value.
public struct PrivacySection: Sendable, Codable, Equatable {
    /// none | client-level | record-level | both (default none).
    /// client-level: DP-FedAvg, each client's whole contribution is protected (updates clipped
    /// to `clip_norm`, Gaussian noise on every aggregation event); record-level: DP-SGD inside
    /// every client (`record_level`); both: the two at once.
    public var mode = "none"
    /// C, the L2 bound of every client update (client-level; default 1.0 unless
    /// `adaptive_clipping` is given; the two are exclusive).
    public var clipNorm: Double?
    /// Adaptive clipping (Andrew et al. 2021): C follows a quantile of the update norms.
    public var adaptiveClipping: AdaptiveClippingSection?
    /// z, the client-level noise multiplier: noise std z·C on the sum of an event's clipped
    /// updates. Give it or `target_epsilon`, not both.
    public var noiseMultiplier: Double?
    /// The client-level ε to reach after `stop.max_versions` aggregation events; z is
    /// calibrated to it at start. Give it or `noise_multiplier`, not both.
    public var targetEpsilon: Double?
    /// δ of the client-level guarantee, and of the record-level one unless
    /// `record_level.delta` is set (default 1e-5). Must be below 1/n: n = clients.count for
    /// client-level, the client's records for record-level.
    public var delta = 1e-5
    /// server | client (default server): who adds the client-level noise. server: the
    /// server adds N(0, (zC)²) to each event's sum; client: every client adds its share
    /// N(0, (zC)²/n) to its own clipped update, for n the expected clients per event.
    public var noisePlacement = "server"
    /// Record-level DP-SGD settings (mode record-level or both).
    public var recordLevel: RecordLevelSection?

    /// `privacy.adaptive_clipping:`.
    ///
    /// `Sendable`: a plain value.
    public struct AdaptiveClippingSection: Sendable, Codable, Equatable {
        /// C₀, the clip norm of the first event (default 1.0).
        public var initialClipNorm = 1.0
        /// γ in (0, 1), the quantile of update norms C tracks (default 0.5, the median).
        public var targetQuantile = 0.5
        /// η > 0, the geometric learning rate of C (default 0.2).
        public var learningRate = 0.2
        /// σ_b, the noise on the count of unclipped updates (default m/20 for m the expected
        /// clients per event). z must stay below 2·σ_b.
        public var indicatorNoise: Double?

        public init() {}

        static let keys = KeySchema.map([
            "initial_clip_norm": .value, "target_quantile": .value, "learning_rate": .value,
            "indicator_noise": .value,
        ])

        enum CodingKeys: String, CodingKey {
            case initialClipNorm = "initial_clip_norm", targetQuantile = "target_quantile"
            case learningRate = "learning_rate", indicatorNoise = "indicator_noise"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            initialClipNorm = try c.decodeIfPresent(Double.self, forKey: .initialClipNorm) ?? initialClipNorm
            targetQuantile = try c.decodeIfPresent(Double.self, forKey: .targetQuantile) ?? targetQuantile
            learningRate = try c.decodeIfPresent(Double.self, forKey: .learningRate) ?? learningRate
            indicatorNoise = try c.decodeIfPresent(Double.self, forKey: .indicatorNoise)
        }
    }

    /// `privacy.record_level:`.
    ///
    /// `Sendable`: a plain value.
    public struct RecordLevelSection: Sendable, Codable, Equatable {
        /// C, the L2 bound of every example's gradient (default 1.0).
        public var clipNorm = 1.0
        /// z of DP-SGD: noise std z·C on each step's sum of clipped gradients. Give it or
        /// `target_epsilon`, not both.
        public var noiseMultiplier: Double?
        /// The record-level ε to reach after `planned_steps` local steps; z is calibrated to
        /// it by each client from its own sampling rate.
        public var targetEpsilon: Double?
        /// B, the expected batch size: batches are Poisson samples with rate q = B/n over the
        /// client's n records (default: training.batch_size).
        public var batchSize: Int?
        /// δ of the record-level guarantee (default privacy.delta); must be below 1/n.
        public var delta: Double?
        /// Local steps a client is expected to take over the run, for `target_epsilon`
        /// (default stop.max_versions × the steps of a task: scheduler.local_steps, or
        /// scheduler.max_local_steps for compass).
        public var plannedSteps: Int?

        public init() {}

        static let keys = KeySchema.map([
            "clip_norm": .value, "noise_multiplier": .value, "target_epsilon": .value, "batch_size": .value,
            "delta": .value, "planned_steps": .value,
        ])

        enum CodingKeys: String, CodingKey {
            case clipNorm = "clip_norm", noiseMultiplier = "noise_multiplier", targetEpsilon = "target_epsilon"
            case batchSize = "batch_size", delta, plannedSteps = "planned_steps"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            clipNorm = try c.decodeIfPresent(Double.self, forKey: .clipNorm) ?? clipNorm
            noiseMultiplier = try c.decodeIfPresent(Double.self, forKey: .noiseMultiplier)
            targetEpsilon = try c.decodeIfPresent(Double.self, forKey: .targetEpsilon)
            batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize)
            delta = try c.decodeIfPresent(Double.self, forKey: .delta)
            plannedSteps = try c.decodeIfPresent(Int.self, forKey: .plannedSteps)
        }
    }

    public init() {}

    static let keys = KeySchema.map([
        "mode": .value, "clip_norm": .value, "adaptive_clipping": AdaptiveClippingSection.keys,
        "noise_multiplier": .value, "target_epsilon": .value, "delta": .value, "noise_placement": .value,
        "record_level": RecordLevelSection.keys,
    ])

    enum CodingKeys: String, CodingKey {
        case mode, clipNorm = "clip_norm", adaptiveClipping = "adaptive_clipping"
        case noiseMultiplier = "noise_multiplier", targetEpsilon = "target_epsilon", delta
        case noisePlacement = "noise_placement", recordLevel = "record_level"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mode = try c.decodeIfPresent(String.self, forKey: .mode) ?? mode
        clipNorm = try c.decodeIfPresent(Double.self, forKey: .clipNorm)
        adaptiveClipping = try c.decodeIfPresent(AdaptiveClippingSection.self, forKey: .adaptiveClipping)
        noiseMultiplier = try c.decodeIfPresent(Double.self, forKey: .noiseMultiplier)
        targetEpsilon = try c.decodeIfPresent(Double.self, forKey: .targetEpsilon)
        delta = try c.decodeIfPresent(Double.self, forKey: .delta) ?? delta
        noisePlacement = try c.decodeIfPresent(String.self, forKey: .noisePlacement) ?? noisePlacement
        recordLevel = try c.decodeIfPresent(RecordLevelSection.self, forKey: .recordLevel)
    }

    // MARK: - Interpretation

    /// The protected unit(s), or nil for `none`.
    public var privacyMode: PrivacyConfiguration.Mode? {
        switch mode {
        case "client-level": .clientLevel
        case "record-level": .recordLevel
        case "both": .both
        default: nil
        }
    }

    /// True when client-level DP (DP-FedAvg) is on.
    public var isClientLevel: Bool { mode == "client-level" || mode == "both" }
    /// True when record-level DP-SGD is on.
    public var isRecordLevel: Bool { mode == "record-level" || mode == "both" }

    /// Clients expected in one aggregation event under `scheduler`: the default σ_b is m/20
    /// of it, and client-side noise is split into this many shares. fedavg/fedavgm: the
    /// expected participants of a round (clients.count × sampling_rate, at least 1); fedbuff:
    /// buffer_size; fedasync: 1; compass: clients.count (a group may hold every client).
    public static func expectedClientsPerEvent(_ federation: FederationConfiguration) -> Int {
        let scheduler = federation.scheduler
        switch SchedulerKind(rawValue: scheduler.kind) {
        case .fedavg, .fedavgm:
            return max(1, Int((Double(federation.clients.count) * scheduler.samplingRate).rounded(.down)))
        case .fedbuff: return max(1, scheduler.bufferSize)
        case .fedasync: return 1
        case .compass, nil: return max(1, federation.clients.count)
        }
    }

    /// The client sampling rate the accountant uses: always 1 (see below).
    public static func clientSampleRate(_ federation: FederationConfiguration) -> Double {
        // Privacy amplification by sampling needs sampling the adversary cannot predict;
        // FedAvg's client sampling is seeded from run.seed (so that a restarted server
        // replays it), hence every event is accounted as if all clients took part.
        _ = federation
        return 1
    }

    /// Local steps a client is expected to take over the whole run (record-level planning).
    public func plannedRecordSteps(_ federation: FederationConfiguration) -> Int {
        if let planned = recordLevel?.plannedSteps { return planned }
        let perTask =
            federation.scheduler.kind == SchedulerKind.compass.rawValue
            ? federation.scheduler.maxLocalSteps : federation.scheduler.localSteps
        return federation.stop.maxVersions * perTask
    }

    // MARK: - Validation

    /// Refuses settings that cannot be honoured, naming the key and saying why. Record-level
    /// checks that need a client's record count run again in ``recordLevelPlan(federation:records:)``.
    func validate(federation: FederationConfiguration) throws {
        guard ["none", "client-level", "record-level", "both"].contains(mode) else {
            throw invalid("privacy.mode", "'\(mode)'", "use none, client-level, record-level or both")
        }
        if mode == "none" {
            let given = [
                clipNorm.map { _ in "clip_norm" }, adaptiveClipping.map { _ in "adaptive_clipping" },
                noiseMultiplier.map { _ in "noise_multiplier" }, targetEpsilon.map { _ in "target_epsilon" },
                recordLevel.map { _ in "record_level" },
            ].compactMap { $0 }
            guard given.isEmpty else {
                throw RuntimeError(
                    .invalidConfiguration,
                    "key 'privacy.\(given[0])' is set but privacy.mode is none (the default), so no privacy would be "
                        + "applied; set privacy.mode to client-level, record-level or both, or remove the key")
            }
            return
        }
        guard DPFedAvg.NoisePlacement(rawValue: noisePlacement) != nil else {
            throw invalid("privacy.noise_placement", "'\(noisePlacement)'", "use server or client")
        }
        if isClientLevel {
            _ = try makeClientLevelConfiguration(federation: federation)
        } else {
            let given = [
                clipNorm.map { _ in "clip_norm" }, adaptiveClipping.map { _ in "adaptive_clipping" },
                noiseMultiplier.map { _ in "noise_multiplier" }, targetEpsilon.map { _ in "target_epsilon" },
            ].compactMap { $0 }
            if let key = given.first {
                throw RuntimeError(
                    .invalidConfiguration,
                    "key 'privacy.\(key)' is a client-level setting but privacy.mode is \(mode); use mode both, or "
                        + "put record-level settings under privacy.record_level")
            }
        }
        if isRecordLevel {
            _ = try recordLevelPlan(federation: federation, records: nil)
        } else if recordLevel != nil {
            throw RuntimeError(
                .invalidConfiguration,
                "key 'privacy.record_level' is set but privacy.mode is \(mode); use mode record-level or both")
        }
    }

    // MARK: - Client level

    /// The server's client-level settings, with z calibrated when a target ε is given.
    /// - Throws: ``RuntimeError`` naming the key when the settings cannot be honoured.
    public func makeClientLevelConfiguration(federation: FederationConfiguration) throws
        -> ClientLevelPrivacy.Configuration
    {
        guard isClientLevel else {
            throw RuntimeError(.invalidConfiguration, "privacy.mode is \(mode): there is no client-level privacy")
        }
        let clients = federation.clients.count
        let bound = 1 / Double(max(clients, 1))
        guard delta > 0, delta < bound else {
            throw invalid(
                "privacy.delta", delta,
                "it must lie in (0, 1/n) = (0, \(bound)) for n = clients.count = \(clients): a delta of 1/n or more "
                    + "permits releasing one client's data outright")
        }
        guard federation.scheduler.weighting == Weighting.equal.rawValue else {
            throw invalid(
                "scheduler.weighting", "'\(federation.scheduler.weighting)'",
                "client-level privacy needs weighting: equal; with samples weighting a client's share depends on "
                    + "sample counts that are not protected and the noise would have to follow the largest share")
        }
        let clipping: ClientLevelPrivacy.Clipping
        switch (clipNorm, adaptiveClipping) {
        case (.some, .some):
            throw RuntimeError(
                .invalidConfiguration,
                "keys 'privacy.clip_norm' and 'privacy.adaptive_clipping' are both set; give a fixed clip norm or "
                    + "adaptive clipping, not both")
        case (let fixed, nil):
            let value = fixed ?? 1.0
            guard value > 0, value.isFinite else {
                throw invalid(
                    "privacy.clip_norm", value, "it must be a finite number > 0 (it bounds each update's L2 norm)")
            }
            clipping = .fixed(value)
        case (nil, .some(let adaptive)):
            guard adaptive.initialClipNorm > 0, adaptive.initialClipNorm.isFinite else {
                throw invalid(
                    "privacy.adaptive_clipping.initial_clip_norm", adaptive.initialClipNorm,
                    "it must be a finite number > 0")
            }
            guard adaptive.targetQuantile > 0, adaptive.targetQuantile < 1 else {
                throw invalid(
                    "privacy.adaptive_clipping.target_quantile", adaptive.targetQuantile, "it must lie in (0, 1)")
            }
            guard adaptive.learningRate > 0, adaptive.learningRate.isFinite else {
                throw invalid(
                    "privacy.adaptive_clipping.learning_rate", adaptive.learningRate, "it must be a finite number > 0")
            }
            if let sigma = adaptive.indicatorNoise, !(sigma > 0 && sigma.isFinite) {
                throw invalid("privacy.adaptive_clipping.indicator_noise", sigma, "it must be a finite number > 0")
            }
            clipping = .adaptive(
                ClientLevelPrivacy.AdaptiveSettings(
                    initialClipNorm: adaptive.initialClipNorm, targetQuantile: adaptive.targetQuantile,
                    learningRate: adaptive.learningRate, indicatorNoise: adaptive.indicatorNoise))
        }
        let events = federation.stop.maxVersions
        let sampleRate = Self.clientSampleRate(federation)
        let z: Double
        switch (noiseMultiplier, targetEpsilon) {
        case (.some, .some):
            throw RuntimeError(
                .invalidConfiguration,
                "keys 'privacy.noise_multiplier' and 'privacy.target_epsilon' are both set; give one: the noise "
                    + "multiplier, or the epsilon to calibrate it to")
        case (nil, nil):
            throw RuntimeError(
                .invalidConfiguration,
                "client-level privacy needs 'privacy.noise_multiplier' or 'privacy.target_epsilon'")
        case (.some(let given), nil):
            guard given > 0, given.isFinite else {
                throw invalid(
                    "privacy.noise_multiplier", given, "it must be a finite number > 0 (0 adds no noise: no privacy)")
            }
            z = given
        case (nil, .some(let target)):
            guard target > 0, target.isFinite else {
                throw invalid("privacy.target_epsilon", target, "it must be a finite number > 0")
            }
            do {
                z = try RDPAccountant.noiseMultiplier(
                    forTargetEpsilon: target, delta: delta, sampleRate: sampleRate, steps: events)
            } catch {
                throw RuntimeError(
                    .invalidConfiguration,
                    "key 'privacy.target_epsilon' = \(target) cannot be met over stop.max_versions = \(events) events: "
                        + error.message)
            }
        }
        let perEvent = Self.expectedClientsPerEvent(federation)
        let configuration = ClientLevelPrivacy.Configuration(
            noiseMultiplier: z, clipping: clipping, delta: delta,
            placement: DPFedAvg.NoisePlacement(rawValue: noisePlacement) ?? .server, sampleRate: sampleRate,
            expectedClientsPerEvent: perEvent)
        if case .adaptive(let adaptive) = clipping {
            let sigmaB = adaptive.adaptiveConfiguration.resolvedIndicatorNoise(clientsPerRound: perEvent)
            guard z < sigmaB else {
                let key = targetEpsilon != nil ? "privacy.target_epsilon" : "privacy.noise_multiplier"
                let value = targetEpsilon.map { "\($0) (calibrated z = \(z))" } ?? "\(z)"
                let source =
                    adaptive.indicatorNoise == nil
                    ? "σ_b = m/20 with m = \(perEvent) expected clients per event"
                    : "σ_b = privacy.adaptive_clipping.indicator_noise"
                throw RuntimeError(
                    .invalidConfiguration,
                    "key '\(key)' = \(value): adaptive clipping splits the noise multiplier z between the updates and "
                        + "the count of unclipped updates (sensitivity 1), z^-2 = z_updates^-2 + σ_b^-2, which needs "
                        + "z < σ_b = \(sigmaB) (\(source)); the count alone would spend the whole budget. Raise "
                        + "privacy.adaptive_clipping.indicator_noise above \(z), use more clients per event, lower "
                        + "\(key == "privacy.target_epsilon" ? "the noise (a larger target_epsilon)" : "noise_multiplier"), "
                        + "or use a fixed privacy.clip_norm")
            }
        }
        return configuration
    }

    // MARK: - Record level

    /// What a client needs to run DP-SGD: the per-example clip norm, z (calibrated to its own
    /// sampling rate when a target ε is given), the expected batch size and the rate q = B/n.
    ///
    /// `Sendable`: a plain value.
    public struct RecordLevelPlan: Sendable, Equatable {
        public var clipNorm: Double
        public var noiseMultiplier: Double
        public var expectedBatchSize: Int
        /// q = B/n (1 when n is not known yet).
        public var sampleRate: Double
        public var delta: Double
        public var plannedSteps: Int
    }

    /// The record-level plan for a client with `records` training records (nil: checks only
    /// what does not depend on them, as at configuration load).
    /// - Throws: ``RuntimeError`` naming the key: δ not below 1/records, B above the records,
    ///   a non-positive C, z or target ε, or a target ε that cannot be met.
    public func recordLevelPlan(federation: FederationConfiguration, records: Int?) throws -> RecordLevelPlan {
        guard isRecordLevel else {
            throw RuntimeError(.invalidConfiguration, "privacy.mode is \(mode): there is no record-level privacy")
        }
        guard let settings = recordLevel else {
            throw RuntimeError(
                .invalidConfiguration,
                "privacy.mode \(mode) needs 'privacy.record_level' with noise_multiplier or target_epsilon "
                    + "(and optionally clip_norm, batch_size)")
        }
        guard settings.clipNorm > 0, settings.clipNorm.isFinite else {
            throw invalid(
                "privacy.record_level.clip_norm", settings.clipNorm,
                "it must be a finite number > 0 (it bounds each example's gradient norm)")
        }
        let batchSize = settings.batchSize ?? federation.training.batchSize
        guard batchSize > 0 else {
            throw invalid("privacy.record_level.batch_size", batchSize, "it must be a positive integer")
        }
        let recordDelta = settings.delta ?? delta
        let deltaKey = settings.delta == nil ? "privacy.delta" : "privacy.record_level.delta"
        if let records {
            guard records > 0 else {
                throw RuntimeError(
                    .invalidConfiguration, "record-level privacy needs training records, the client has none")
            }
            guard batchSize <= records else {
                throw invalid(
                    "privacy.record_level.batch_size", batchSize,
                    "the expected batch size must not exceed the client's \(records) records (q = B/n <= 1)")
            }
            let bound = 1 / Double(records)
            guard recordDelta > 0, recordDelta < bound else {
                throw invalid(
                    deltaKey, recordDelta,
                    "record-level delta must lie in (0, 1/n) = (0, \(bound)) for this client's n = \(records) records: "
                        + "a delta of 1/n or more permits releasing one record outright")
            }
        } else {
            guard recordDelta > 0, recordDelta < 1 else {
                throw invalid(deltaKey, recordDelta, "it must lie in (0, 1/n) for n the records of a client")
            }
        }
        let planned = plannedRecordSteps(federation)
        guard planned > 0 else {
            throw invalid("privacy.record_level.planned_steps", planned, "it must be a positive integer")
        }
        let sampleRate = records.map { Double(batchSize) / Double($0) } ?? 1
        let z: Double
        switch (settings.noiseMultiplier, settings.targetEpsilon) {
        case (.some, .some):
            throw RuntimeError(
                .invalidConfiguration,
                "keys 'privacy.record_level.noise_multiplier' and 'privacy.record_level.target_epsilon' are both set; "
                    + "give one")
        case (nil, nil):
            throw RuntimeError(
                .invalidConfiguration,
                "record-level privacy needs 'privacy.record_level.noise_multiplier' or 'privacy.record_level.target_epsilon'"
            )
        case (.some(let given), nil):
            guard given > 0, given.isFinite else {
                throw invalid(
                    "privacy.record_level.noise_multiplier", given,
                    "it must be a finite number > 0 (0 adds no noise: no privacy)")
            }
            z = given
        case (nil, .some(let target)):
            guard target > 0, target.isFinite else {
                throw invalid("privacy.record_level.target_epsilon", target, "it must be a finite number > 0")
            }
            if records == nil {
                z = 0  // calibrated by each client once it knows its records
            } else {
                do {
                    z = try RDPAccountant.noiseMultiplier(
                        forTargetEpsilon: target, delta: recordDelta, sampleRate: sampleRate, steps: planned)
                } catch {
                    throw RuntimeError(
                        .invalidConfiguration,
                        "key 'privacy.record_level.target_epsilon' = \(target) cannot be met over \(planned) steps "
                            + "at q = \(sampleRate): \(error.message)")
                }
            }
        }
        return RecordLevelPlan(
            clipNorm: settings.clipNorm, noiseMultiplier: z, expectedBatchSize: batchSize, sampleRate: sampleRate,
            delta: recordDelta, plannedSteps: planned)
    }

    /// The settings as SextantPrivacy's ``PrivacyConfiguration`` (nil for mode none), for a
    /// client with `records` records when known.
    public func makeConfiguration(federation: FederationConfiguration, records: Int? = nil) throws
        -> PrivacyConfiguration?
    {
        guard let privacyMode else { return nil }
        var result = PrivacyConfiguration(
            mode: privacyMode, clipping: .fixed(clipNorm: 1), noise: .noiseMultiplier(1), delta: delta,
            noisePlacement: DPFedAvg.NoisePlacement(rawValue: noisePlacement) ?? .server)
        if isClientLevel {
            let client = try makeClientLevelConfiguration(federation: federation)
            result.noise = .noiseMultiplier(client.noiseMultiplier)
            switch client.clipping {
            case .fixed(let c): result.clipping = .fixed(clipNorm: c)
            case .adaptive(let a): result.clipping = .adaptive(a.adaptiveConfiguration)
            }
        }
        if isRecordLevel {
            let plan = try recordLevelPlan(federation: federation, records: records)
            let noise: PrivacyConfiguration.NoiseCalibration =
                plan.noiseMultiplier > 0
                ? .noiseMultiplier(plan.noiseMultiplier) : .targetEpsilon(recordLevel?.targetEpsilon ?? 1)
            result.recordLevel = .init(
                clipNorm: plan.clipNorm, noise: noise, sampleRate: plan.sampleRate, delta: plan.delta)
        }
        return result
    }
}
