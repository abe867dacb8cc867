import Foundation
import SextantAggregation
import SextantPrivacy
import SextantScheduling

/// `privacy:` — differential privacy of a federation (docs/design.md 7). Off by default.
///
/// A setting that cannot be honoured is refused at start with a message naming the key: a
/// run that silently trained without the promised guarantee would be worse than no run.
/// Any privacy key given while `mode` is `none` is refused for the same reason.
///
/// Each key is declared once in ``Keys`` (name, default, range); decoding checks every
/// range there and turns the exclusive pairs (`clip_norm` / `adaptive_clipping`,
/// `noise_multiplier` / `target_epsilon`) into one typed value, so
/// ``validate(federation:)`` only checks what depends on the rest of the federation.
///
/// `Sendable`: a plain value.
package struct PrivacySection: Sendable, Decodable, Equatable {
    /// Which unit is protected.
    package enum Mode: String, Sendable, Equatable, CaseIterable {
        case none
        /// DP-FedAvg: each client's whole contribution (updates clipped to C, Gaussian noise
        /// on every aggregation event).
        case clientLevel = "client-level"
        /// DP-SGD inside every client: each training record.
        case recordLevel = "record-level"
        /// Both at once.
        case both

        package var includesClientLevel: Bool { self == .clientLevel || self == .both }
        package var includesRecordLevel: Bool { self == .recordLevel || self == .both }
    }

    /// How client updates are clipped.
    package enum Clipping: Sendable, Equatable {
        /// `clip_norm`: a fixed L2 bound C.
        case fixed(Double)
        /// `adaptive_clipping`: C follows a quantile of the update norms (Andrew et al. 2021).
        case adaptive(AdaptiveClippingSection)
    }

    /// How a noise level is chosen.
    package enum NoiseCalibration: Sendable, Equatable {
        /// `noise_multiplier`: z, noise std over the L2 sensitivity.
        case noiseMultiplier(Double)
        /// `target_epsilon`: the smallest z that reaches this ε at the section's δ, calibrated at start.
        case targetEpsilon(Double)
    }

    package var mode = Mode.none
    /// Client-level clipping; nil when neither key is given (a fixed C of 1.0).
    package var clipping: Clipping?
    /// Client-level noise; nil when neither key is given (refused for client-level).
    package var noise: NoiseCalibration?
    /// δ of the client-level guarantee, and of the record-level one unless `record_level.delta` is set.
    package var delta = 1e-5
    package var noisePlacement = NoisePlacement.server
    /// The operator's explicit consent to `noise_placement: client` while Sextant has no
    /// secure aggregation: the server then sees each update with only its own noise share.
    package var clientNoiseWithoutSecureAggregation = false
    /// Record-level DP-SGD settings (mode record-level or both).
    package var recordLevel: RecordLevelSection?
    /// What one DP-SGD contribution in a client stands for: a record, or a subject with all
    /// its records in the silo (subject-level DP-SGD; needs each record's subject).
    package var unit = PrivacyUnit.record
    /// `secure_aggregation:`: the server learns only the sum of a cohort (docs/design.md 13).
    package var secureAggregation = SecureAggregationSection()

    package init() {}

    /// The keys of `privacy:`, each declared once; configs/README.md's table lists the same.
    enum Keys {
        static let mode = ConfigurationKey<String>(
            "mode", default: Mode.none.rawValue, shown: "`none`", check: KeyCheck.oneOf(Mode.self))
        static let clipNorm = ConfigurationKey<Double>(
            "clip_norm", shown: "`1.0`", check: KeyCheck.positive("it bounds each update's L2 norm"))
        static let adaptiveClipping = ConfigurationKey<AdaptiveClippingSection>(
            "adaptive_clipping", shown: "none", schema: .section(AdaptiveClippingSection.declared))
        static let noiseMultiplier = ConfigurationKey<Double>(
            "noise_multiplier", shown: "none", check: KeyCheck.positive("0 adds no noise: no privacy"))
        static let targetEpsilon = ConfigurationKey<Double>(
            "target_epsilon", shown: "none", check: KeyCheck.positive())
        static let delta = ConfigurationKey<Double>(
            "delta", default: 1e-5, shown: "`1e-5`", check: KeyCheck.unitInterval("below 1/n for n protected units"))
        static let noisePlacement = ConfigurationKey<String>(
            "noise_placement", default: NoisePlacement.server.rawValue, shown: "`server`",
            check: KeyCheck.oneOf(NoisePlacement.self))
        static let clientNoiseWithoutSecureAggregation = ConfigurationKey<Bool>(
            "client_noise_without_secure_aggregation", default: false, shown: "`false`")
        static let recordLevel = ConfigurationKey<RecordLevelSection>(
            "record_level", shown: "none", schema: .section(RecordLevelSection.declared))
        static let unit = ConfigurationKey<String>(
            "unit", default: PrivacyUnit.record.rawValue, shown: "`record`", check: KeyCheck.oneOf(PrivacyUnit.self))
        static let secureAggregation = ConfigurationKey<SecureAggregationSection>(
            "secure_aggregation", shown: "none", schema: .section(SecureAggregationSection.declared))
    }

    static let declared = [
        Keys.mode.declared, Keys.clipNorm.declared, Keys.adaptiveClipping.declared, Keys.noiseMultiplier.declared,
        Keys.targetEpsilon.declared, Keys.delta.declared, Keys.noisePlacement.declared,
        Keys.clientNoiseWithoutSecureAggregation.declared, Keys.recordLevel.declared, Keys.unit.declared,
        Keys.secureAggregation.declared,
    ]
    static let keys = KeySchema.section(declared)

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: NamedKey.self)
        mode = try c.read(Keys.mode, as: Mode.self) ?? mode
        clipping = try Self.exclusive(
            c, Keys.clipNorm, Keys.adaptiveClipping, reason: "give a fixed clip norm or adaptive clipping, not both",
            first: Clipping.fixed, second: Clipping.adaptive)
        noise = try Self.exclusive(
            c, Keys.noiseMultiplier, Keys.targetEpsilon,
            reason: "give one: the noise multiplier, or the epsilon to calibrate it to",
            first: NoiseCalibration.noiseMultiplier, second: NoiseCalibration.targetEpsilon)
        delta = try c.read(Keys.delta) ?? delta
        noisePlacement = try c.read(Keys.noisePlacement, as: NoisePlacement.self) ?? noisePlacement
        clientNoiseWithoutSecureAggregation = try c.read(Keys.clientNoiseWithoutSecureAggregation) ?? false
        recordLevel = try c.read(Keys.recordLevel)
        unit = try c.read(Keys.unit, as: PrivacyUnit.self) ?? unit
        secureAggregation = try c.read(Keys.secureAggregation) ?? secureAggregation
    }

    /// One value from two keys that exclude each other.
    static func exclusive<A, B, Result>(
        _ c: KeyedDecodingContainer<NamedKey>, _ a: ConfigurationKey<A>, _ b: ConfigurationKey<B>, reason: String,
        first: (A) -> Result, second: (B) -> Result
    ) throws -> Result? {
        switch (try c.read(a), try c.read(b)) {
        case (.some, .some):
            throw RuntimeError(
                .invalidConfiguration, "keys '\(c.path(a.name))' and '\(c.path(b.name))' are both set; \(reason)")
        case (.some(let value), nil): return first(value)
        case (nil, .some(let value)): return second(value)
        case (nil, nil): return nil
        }
    }

    /// `privacy.adaptive_clipping:`.
    ///
    /// `Sendable`: a plain value.
    package struct AdaptiveClippingSection: Sendable, Decodable, Equatable {
        /// C₀, the clip norm of the first event.
        package var initialClipNorm = 1.0
        /// γ in (0, 1), the quantile of update norms C tracks (0.5: the median).
        package var targetQuantile = 0.5
        /// η > 0, the geometric learning rate of C.
        package var learningRate = 0.2
        /// σ_b, the noise on the count of unclipped updates (nil: m/20 for m the expected
        /// clients per event). z must stay below σ_b (see ``AdaptiveClipping``).
        package var indicatorNoise: Double?

        package init() {}

        enum Keys {
            static let initialClipNorm = ConfigurationKey<Double>(
                "initial_clip_norm", default: 1.0, shown: "`1.0`", check: KeyCheck.positive())
            static let targetQuantile = ConfigurationKey<Double>(
                "target_quantile", default: 0.5, shown: "`0.5`", check: KeyCheck.unitInterval())
            static let learningRate = ConfigurationKey<Double>(
                "learning_rate", default: 0.2, shown: "`0.2`", check: KeyCheck.positive())
            static let indicatorNoise = ConfigurationKey<Double>(
                "indicator_noise", shown: "m/20", check: KeyCheck.positive())
        }

        static let declared = [
            Keys.initialClipNorm.declared, Keys.targetQuantile.declared, Keys.learningRate.declared,
            Keys.indicatorNoise.declared,
        ]

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: NamedKey.self)
            initialClipNorm = try c.read(Keys.initialClipNorm) ?? initialClipNorm
            targetQuantile = try c.read(Keys.targetQuantile) ?? targetQuantile
            learningRate = try c.read(Keys.learningRate) ?? learningRate
            indicatorNoise = try c.read(Keys.indicatorNoise)
        }

        var settings: ClientLevelPrivacy.AdaptiveSettings {
            .init(
                initialClipNorm: initialClipNorm, targetQuantile: targetQuantile, learningRate: learningRate,
                indicatorNoise: indicatorNoise)
        }
    }

    /// `privacy.record_level:`.
    ///
    /// `Sendable`: a plain value.
    package struct RecordLevelSection: Sendable, Decodable, Equatable {
        /// C, the L2 bound of every example's gradient.
        package var clipNorm = 1.0
        /// z of DP-SGD, or the record-level ε to calibrate it to after `planned_steps`
        /// (each client calibrates to its own sampling rate); nil when neither is given.
        package var noise: NoiseCalibration?
        /// B, the expected batch size: Poisson batches with rate q = B/n over the client's n
        /// records (nil: training.batch_size).
        package var batchSize: Int?
        /// δ of the record-level guarantee (nil: privacy.delta); must be below 1/n.
        package var delta: Double?
        /// Local steps a client is expected to take over the run, for a target ε (nil:
        /// stop.max_versions × the steps of a task).
        package var plannedSteps: Int?
        /// q, the Poisson rate at which every silo samples its subjects (`privacy.unit:
        /// subject` only; the same in every silo, so the server accounts it without knowing
        /// how many subjects a silo has).
        package var sampleRate: Double?
        /// The file where each client keeps its DP-SGD step count (`{name}`, `{index}`
        /// replaced; nil: `<server.database>.ledgers/{name}.json`).
        package var ledger: String?

        package init() {}

        enum Keys {
            static let clipNorm = ConfigurationKey<Double>(
                "clip_norm", default: 1.0, shown: "`1.0`",
                check: KeyCheck.positive("it bounds each example's gradient norm"))
            static let noiseMultiplier = ConfigurationKey<Double>(
                "noise_multiplier", shown: "none", check: KeyCheck.positive("0 adds no noise: no privacy"))
            static let targetEpsilon = ConfigurationKey<Double>(
                "target_epsilon", shown: "none", check: KeyCheck.positive())
            static let batchSize = ConfigurationKey<Int>(
                "batch_size", shown: "`training.batch_size`", check: KeyCheck.positiveInteger)
            static let delta = ConfigurationKey<Double>(
                "delta", shown: "`privacy.delta`", check: KeyCheck.unitInterval("below 1/n for a client's n records"))
            static let plannedSteps = ConfigurationKey<Int>(
                "planned_steps", shown: "`max_versions` x steps per task", check: KeyCheck.positiveInteger)
            static let ledger = ConfigurationKey<String>(
                "ledger", shown: "`<server.database>.ledgers/{name}.json`",
                check: { $0.isEmpty ? "name a file, e.g. ledgers/{name}.json" : nil })
            static let sampleRate = ConfigurationKey<Double>(
                "sample_rate", shown: "none",
                check: { $0 > 0 && $0 <= 1 ? nil : "it must lie in (0, 1] (the rate at which subjects are sampled)" })
        }

        static let declared = [
            Keys.clipNorm.declared, Keys.noiseMultiplier.declared, Keys.targetEpsilon.declared, Keys.batchSize.declared,
            Keys.delta.declared, Keys.plannedSteps.declared, Keys.sampleRate.declared, Keys.ledger.declared,
        ]

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: NamedKey.self)
            clipNorm = try c.read(Keys.clipNorm) ?? clipNorm
            noise = try PrivacySection.exclusive(
                c, Keys.noiseMultiplier, Keys.targetEpsilon, reason: "give one",
                first: NoiseCalibration.noiseMultiplier, second: NoiseCalibration.targetEpsilon)
            batchSize = try c.read(Keys.batchSize)
            delta = try c.read(Keys.delta)
            plannedSteps = try c.read(Keys.plannedSteps)
            sampleRate = try c.read(Keys.sampleRate)
            ledger = try c.read(Keys.ledger)
        }
    }

    // MARK: - Interpretation

    /// True when client-level DP (DP-FedAvg) is on.
    package var isClientLevel: Bool { mode.includesClientLevel }
    /// True when record-level DP-SGD is on.
    package var isRecordLevel: Bool { mode.includesRecordLevel }

    /// Clients expected in one aggregation event under `scheduler`: the default σ_b is m/20
    /// of it, and client-side noise is split into this many shares. fedavg/fedavgm: the
    /// expected participants of a round (clients.count × sampling_rate, at least 1); fedbuff:
    /// buffer_size; fedasync: 1; compass: clients.count (a group may hold every client).
    package static func expectedClientsPerEvent(_ federation: FederationConfiguration) -> Int {
        federation.scheduler.expectedClientsPerEvent(clients: federation.clients.count)
    }

    /// True when the scheduler runs DP-FedAvg's rounds under add/remove adjacency: fedavg and
    /// fedavgm, whose client sampling is then Poisson from the operating system's secure
    /// generator and whose rounds divide by a fixed denominator (docs/design.md 7).
    package static func isAddRemove(_ federation: FederationConfiguration) -> Bool {
        let kind = SchedulerKind(rawValue: federation.scheduler.kind)
        return kind == .fedavg || kind == .fedavgm
    }

    /// The client sampling rate the accountant uses: fedavg and fedavgm, the rounds' Poisson
    /// rate q (`scheduler.sampling_rate`), drawn from a secure generator the adversary cannot
    /// predict; the other schedulers choose who takes part by speed and arrival, which
    /// amplification by sampling does not cover, so every event is charged in full (q = 1).
    package static func clientSampleRate(_ federation: FederationConfiguration) -> Double {
        isAddRemove(federation) ? federation.scheduler.samplingRate : 1
    }

    /// D = q·N, the expected cohort every fedavg/fedavgm round divides by under client-level
    /// DP (N = clients.count, the federation's declared size, public): nil for the other
    /// schedulers and without client-level DP.
    package func fixedDenominator(_ federation: FederationConfiguration) -> Double? {
        guard isClientLevel, Self.isAddRemove(federation) else { return nil }
        return Double(max(federation.clients.count, 1)) * federation.scheduler.samplingRate
    }

    /// What the run's reported ε protects (its unit, adjacency and δ), printed beside it in
    /// logs and reports; nil without privacy. The client-level one when there is one (the
    /// checkpoints' ε is then client-level).
    package func guaranteeDescription(_ federation: FederationConfiguration) -> String? {
        if let distributed = secureAggregation.guaranteeDescription(delta: delta) { return distributed }
        if isClientLevel {
            return ClientLevelPrivacy.guaranteeDescription(
                addRemove: Self.isAddRemove(federation), sampleRate: Self.clientSampleRate(federation), delta: delta)
        }
        guard isRecordLevel else { return nil }
        let recordDelta = recordLevel?.delta ?? delta
        if unit == .subject { return Self.subjectGuaranteeDescription(delta: recordDelta) }
        return "record-level, add/remove one record, largest over the clients, delta=\(recordDelta)"
    }

    /// What a subject-level ε protects, as the server and the audit state it.
    package static func subjectGuaranteeDescription(delta: Double) -> String {
        "subject-level, add/remove all of one subject's records in every silo that holds them, "
            + "each silo charged in full, delta=\(delta)"
    }

    /// Where client `index`, named `name`, keeps its DP-SGD step count (docs/design.md 7).
    package func ledgerPath(_ federation: FederationConfiguration, index: Int, name: String) -> String {
        (recordLevel?.ledger ?? federation.server.database + ".ledgers/{name}.json")
            .replacingOccurrences(of: "{index}", with: String(index)).replacingOccurrences(of: "{name}", with: name)
    }

    /// Local steps a client is expected to take over the whole run (record-level planning).
    package func plannedRecordSteps(_ federation: FederationConfiguration) -> Int {
        if let planned = recordLevel?.plannedSteps { return planned }
        let perTask =
            federation.scheduler.kind == SchedulerKind.compass.rawValue
            ? federation.scheduler.maxLocalSteps : federation.scheduler.localSteps
        return federation.stop.maxVersions * perTask
    }

    // MARK: - Validation

    /// Refuses what decoding cannot: settings for a protection the mode does not turn on,
    /// and whatever depends on the rest of the federation (run again, per client, in
    /// ``recordLevelPlan(federation:records:)`` once its records are known).
    func validate(federation: FederationConfiguration) throws {
        try secureAggregation.validate(federation: federation)
        let clientLevelKeys = [
            clipping.map { if case .fixed = $0 { Keys.clipNorm.name } else { Keys.adaptiveClipping.name } },
            noise.map { if case .noiseMultiplier = $0 { Keys.noiseMultiplier.name } else { Keys.targetEpsilon.name } },
            clientNoiseWithoutSecureAggregation ? Keys.clientNoiseWithoutSecureAggregation.name : nil,
        ].compactMap { $0 }
        if mode == .none {
            guard let key = clientLevelKeys.first ?? recordLevel.map({ _ in Keys.recordLevel.name }) else { return }
            throw RuntimeError(
                .invalidConfiguration,
                "key 'privacy.\(key)' is set but privacy.mode is none (the default), so no privacy would be "
                    + "applied; set privacy.mode to client-level, record-level or both, or remove the key")
        }
        if isClientLevel {
            _ = try makeClientLevelConfiguration(federation: federation)
        } else if let key = clientLevelKeys.first {
            throw RuntimeError(
                .invalidConfiguration,
                "key 'privacy.\(key)' is a client-level setting but privacy.mode is \(mode.rawValue); use mode both, "
                    + "or put record-level settings under privacy.record_level")
        }
        try validateUnit(federation: federation)
        if isRecordLevel {
            _ = try recordLevelPlan(federation: federation, records: nil)
        } else if recordLevel != nil {
            throw RuntimeError(
                .invalidConfiguration,
                "key 'privacy.record_level' is set but privacy.mode is \(mode.rawValue); use mode record-level or both")
        }
    }

    /// `privacy.unit: subject` needs DP-SGD in the clients, a subject for every record and
    /// the subject sampling rate; `sample_rate` belongs to it alone.
    private func validateUnit(federation: FederationConfiguration) throws {
        guard unit == .subject else {
            if let rate = recordLevel?.sampleRate {
                throw invalid(
                    "privacy.record_level.sample_rate", rate,
                    "it is the subject sampling rate of privacy.unit: subject; record-level DP-SGD samples records "
                        + "at privacy.record_level.batch_size / n")
            }
            return
        }
        guard isRecordLevel else {
            throw invalid(
                "privacy.unit", "subject",
                "it applies to DP-SGD in the clients (privacy.mode record-level or both); client-level DP protects a "
                    + "client's whole contribution already")
        }
        let data = federation.data
        if data.dataset == "subject-federation" {
            guard data.site.subject == nil else {
                throw invalid(
                    "data.subject", "'\(data.site.subject!)'",
                    "subject-federation files carry each record's subject already; remove the key")
            }
        } else if data.dataset != "table" || data.site.subject == nil {
            throw invalid(
                "privacy.unit", "subject",
                "it needs each record's subject: set data.subject to the column that names it (data.dataset: table), "
                    + "or use data.dataset: subject-federation; data.dataset '\(data.dataset)' has no subjects"
                    + (data.dataset == "table" ? " without data.subject" : ""))
        }
        if let batchSize = recordLevel?.batchSize {
            throw invalid(
                "privacy.record_level.batch_size", batchSize,
                "with privacy.unit: subject every step samples subjects at privacy.record_level.sample_rate; "
                    + "remove batch_size")
        }
        guard recordLevel?.sampleRate != nil else {
            throw RuntimeError(
                .invalidConfiguration,
                "privacy.unit: subject needs 'privacy.record_level.sample_rate', the Poisson rate q in (0, 1] at "
                    + "which every silo samples its subjects (about 8/n_s for 8 subjects a step out of n_s)")
        }
    }

    // MARK: - Client level

    /// The server's client-level settings, with z calibrated when a target ε is given.
    /// - Throws: ``RuntimeError`` naming the key when the settings cannot be honoured.
    package func makeClientLevelConfiguration(federation: FederationConfiguration) throws
        -> ClientLevelPrivacy.Configuration
    {
        guard isClientLevel else {
            throw RuntimeError(
                .invalidConfiguration, "privacy.mode is \(mode.rawValue): there is no client-level privacy")
        }
        let clients = federation.clients.count
        let bound = 1 / Double(max(clients, 1))
        guard delta < bound else {
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
        let events = federation.stop.maxVersions
        let sampleRate = Self.clientSampleRate(federation)
        let z: Double
        switch noise {
        case nil:
            throw RuntimeError(
                .invalidConfiguration,
                "client-level privacy needs 'privacy.noise_multiplier' or 'privacy.target_epsilon'")
        case .noiseMultiplier(let given):
            z = given
        case .targetEpsilon(let target):
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
        try checkNoisePlacement()
        let perEvent = Self.expectedClientsPerEvent(federation)
        let resolved: ClientLevelPrivacy.Clipping
        switch clipping ?? .fixed(1.0) {
        case .fixed(let clipNorm):
            resolved = .fixed(clipNorm)
        case .adaptive(let adaptive):
            resolved = .adaptive(adaptive.settings)
            try checkAdaptiveSplit(z: z, adaptive: adaptive, perEvent: perEvent)
        }
        return ClientLevelPrivacy.Configuration(
            noiseMultiplier: z, clipping: resolved, delta: delta, placement: noisePlacement, sampleRate: sampleRate,
            expectedClientsPerEvent: perEvent, fixedDenominator: fixedDenominator(federation),
            epsilonBudget: { if case .targetEpsilon(let target) = noise { target } else { nil } }())
    }

    /// Client-side noise only protects the updates from the server under secure
    /// aggregation (whose own noise is `secure_aggregation.noise_multiplier`): it runs only with the operator's
    /// explicit consent, and then reports the ε against the server too. Adaptive clipping
    /// would send each client's clipped bit to the server unnoised, so the two are refused
    /// together.
    private func checkNoisePlacement() throws {
        let consent = "privacy.client_noise_without_secure_aggregation"
        switch (noisePlacement, clientNoiseWithoutSecureAggregation) {
        case (.client, false):
            throw invalid(
                "privacy.noise_placement", "'client'",
                "without secure aggregation the server would see each update with only its own "
                    + "noise share (multiplier z/sqrt(n)) and the run's epsilon would not hold against it; use "
                    + "noise_placement: server, privacy.secure_aggregation with its noise_multiplier (distributed "
                    + "DP), or set \(consent): true to run it anyway (the run then also reports the epsilon against "
                    + "the server)")
        case (.server, true):
            throw invalid(
                consent, true, "it only applies to privacy.noise_placement: client; remove it or use client placement")
        case (.client, true):
            if case .adaptive = clipping {
                throw RuntimeError(
                    .invalidConfiguration,
                    "keys 'privacy.noise_placement' = client and 'privacy.adaptive_clipping' cannot be combined "
                        + "without secure aggregation: every client would send its clipped bit to the server "
                        + "unnoised; use a fixed privacy.clip_norm or noise_placement: server")
            }
        case (.server, false):
            break
        }
    }

    /// z must leave room for the updates after the count of unclipped updates takes its
    /// share (``AdaptiveClipping/updateNoiseMultiplier(noiseMultiplier:indicatorNoiseStandardDeviation:clientsPerRound:)``).
    private func checkAdaptiveSplit(z: Double, adaptive: AdaptiveClippingSection, perEvent: Int) throws {
        let sigmaB = adaptive.settings.adaptiveConfiguration.resolvedIndicatorNoise(clientsPerRound: perEvent)
        do {
            _ = try AdaptiveClipping.updateNoiseMultiplier(noiseMultiplier: z, indicatorNoiseStandardDeviation: sigmaB)
        } catch {
            let key = noise == .noiseMultiplier(z) ? "privacy.noise_multiplier" : "privacy.target_epsilon"
            let value: String =
                if case .targetEpsilon(let target) = noise { "\(target) (calibrated z = \(z))" } else { "\(z)" }
            let source =
                adaptive.indicatorNoise == nil
                ? "σ_b = m/20 with m = \(perEvent) expected clients per event"
                : "σ_b = privacy.adaptive_clipping.indicator_noise"
            let lower = key == "privacy.target_epsilon" ? "the noise (a larger target_epsilon)" : "noise_multiplier"
            throw RuntimeError(
                .invalidConfiguration,
                "key '\(key)' = \(value): adaptive clipping splits the noise multiplier z between the updates and "
                    + "the count of unclipped updates (sensitivity 1), z^-2 = z_updates^-2 + σ_b^-2, which needs "
                    + "z < σ_b = \(sigmaB) (\(source)); the count alone would spend the whole budget. Raise "
                    + "privacy.adaptive_clipping.indicator_noise above \(z), use more clients per event, lower "
                    + "\(lower), or use a fixed privacy.clip_norm")
        }
    }

    // MARK: - Record level

    /// What a client needs to run DP-SGD: the per-example clip norm, z (calibrated to its own
    /// sampling rate when a target ε is given), the expected batch size and the rate q = B/n.
    ///
    /// `Sendable`: a plain value.
    package struct RecordLevelPlan: Sendable, Equatable {
        package var clipNorm: Double
        package var noiseMultiplier: Double
        package var expectedBatchSize: Int
        /// q = B/n (1 when n is not known yet).
        package var sampleRate: Double
        package var delta: Double
        package var plannedSteps: Int
        /// `privacy.record_level.target_epsilon`: a limit as well as a plan (nil with a given z).
        package var targetEpsilon: Double? = nil
        /// What one contribution stands for; with ``PrivacyUnit/subject``, ``sampleRate`` is
        /// the subjects' rate and ``expectedBatchSize`` is unused.
        package var unit = PrivacyUnit.record

        package init(
            clipNorm: Double, noiseMultiplier: Double, expectedBatchSize: Int, sampleRate: Double, delta: Double,
            plannedSteps: Int, targetEpsilon: Double? = nil, unit: PrivacyUnit = .record
        ) {
            self.clipNorm = clipNorm
            self.noiseMultiplier = noiseMultiplier
            self.expectedBatchSize = expectedBatchSize
            self.sampleRate = sampleRate
            self.delta = delta
            self.plannedSteps = plannedSteps
            self.targetEpsilon = targetEpsilon
            self.unit = unit
        }

        /// With ``PrivacyUnit/subject``: refuses a δ of `1/n_s` or more for a silo with `subjects`.
        package func check(subjects: Int) throws {
            guard unit == .subject else { return }
            guard subjects > 0 else {
                throw RuntimeError(
                    .invalidConfiguration, "subject-level privacy needs records with subjects, the client has none")
            }
            let bound = 1 / Double(subjects)
            guard delta < bound else {
                throw invalid(
                    "privacy.record_level.delta (or privacy.delta)", delta,
                    "subject-level delta must lie in (0, 1/n) = (0, \(bound)) for this client's n = \(subjects) "
                        + "subjects: a delta of 1/n or more permits releasing one subject outright")
            }
        }

        /// The DP-SGD steps a client may take in all before its record-level ε would exceed
        /// the target (nil without a target): at least ``plannedSteps``, since z was
        /// calibrated to reach the target after them. A client stops training there, whatever
        /// the scheduler asks (FedBuff and Compass can give a fast client more tasks).
        package func stepBudget() throws -> Int? {
            guard let targetEpsilon, noiseMultiplier > 0 else { return nil }
            return try RDPAccountant.maxSteps(
                noiseMultiplier: noiseMultiplier, sampleRate: sampleRate, budget: targetEpsilon, delta: delta)
        }
    }

    /// The record-level plan for a client with `records` training records (nil: checks only
    /// what does not depend on them, as at configuration load; z is then 0 for a target ε).
    /// - Throws: ``RuntimeError`` naming the key: δ not below 1/records, B above the records,
    ///   no noise setting, or a target ε that cannot be met.
    package func recordLevelPlan(federation: FederationConfiguration, records: Int?) throws -> RecordLevelPlan {
        guard isRecordLevel else {
            throw RuntimeError(
                .invalidConfiguration, "privacy.mode is \(mode.rawValue): there is no record-level privacy")
        }
        guard let settings = recordLevel else {
            throw RuntimeError(
                .invalidConfiguration,
                "privacy.mode \(mode.rawValue) needs 'privacy.record_level' with noise_multiplier or target_epsilon "
                    + "(and optionally clip_norm, batch_size)")
        }
        let batchSize = settings.batchSize ?? federation.training.batchSize
        guard batchSize > 0 else {
            throw invalid("training.batch_size", batchSize, "it must be a positive integer")
        }
        let recordDelta = settings.delta ?? delta
        let deltaKey = settings.delta == nil ? "privacy.delta" : "privacy.record_level.delta"
        let subjectRate = unit == .subject ? settings.sampleRate : nil
        if subjectRate != nil, let records, records <= 0 {
            throw RuntimeError(
                .invalidConfiguration, "subject-level privacy needs training records, the client has none")
        }
        if subjectRate == nil, let records {
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
            guard recordDelta < bound else {
                throw invalid(
                    deltaKey, recordDelta,
                    "record-level delta must lie in (0, 1/n) = (0, \(bound)) for this client's n = \(records) records: "
                        + "a delta of 1/n or more permits releasing one record outright")
            }
        }
        let planned = plannedRecordSteps(federation)
        guard planned > 0 else {
            throw invalid("privacy.record_level.planned_steps", planned, "it must be a positive integer")
        }
        let sampleRate = subjectRate ?? records.map { Double(batchSize) / Double($0) } ?? 1
        let z: Double
        var target: Double?
        switch settings.noise {
        case nil:
            throw RuntimeError(
                .invalidConfiguration,
                "record-level privacy needs 'privacy.record_level.noise_multiplier' or "
                    + "'privacy.record_level.target_epsilon'")
        case .noiseMultiplier(let given):
            z = given
        case .targetEpsilon(let given):
            target = given
            guard records != nil || subjectRate != nil else {
                z = 0  // calibrated by each client once it knows its records
                break
            }
            do {
                z = try RDPAccountant.noiseMultiplier(
                    forTargetEpsilon: given, delta: recordDelta, sampleRate: sampleRate, steps: planned)
            } catch {
                throw RuntimeError(
                    .invalidConfiguration,
                    "key 'privacy.record_level.target_epsilon' = \(given) cannot be met over \(planned) steps "
                        + "at q = \(sampleRate): \(error.message)")
            }
        }
        return RecordLevelPlan(
            clipNorm: settings.clipNorm, noiseMultiplier: z, expectedBatchSize: batchSize, sampleRate: sampleRate,
            delta: recordDelta, plannedSteps: planned, targetEpsilon: target,
            unit: subjectRate == nil ? .record : .subject)
    }
}
