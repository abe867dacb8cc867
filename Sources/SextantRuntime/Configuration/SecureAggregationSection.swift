import Foundation
import SextantScheduling
import SextantSecureAggregation

/// `privacy.secure_aggregation:` — the server learns only the sum of a cohort's updates
/// (docs/design.md 13, docs/secure-aggregation.md). Off by default.
///
/// Each key is declared once in ``Keys``; ``validate(federation:)`` refuses, in one line
/// each, what the runtime cannot honour with the rest of the federation.
///
/// `Sendable`: a plain value.
package struct SecureAggregationSection: Sendable, Decodable, Equatable {
    /// Who shares keys and masks with whom in a cohort.
    package enum Graph: String, Sendable, Equatable, CaseIterable {
        /// Every member with every other (Bonawitz et al. 2017).
        case complete
        /// Each member with `degree` others on a circle (SecAgg+, Bell et al. 2020).
        case harary
    }

    /// How many shares recover a secret: a fraction of the cohort, or a count.
    package enum Threshold: Sendable, Equatable {
        case fraction(Double)
        case count(Int)

        /// The threshold of a cohort of `members` (a fraction rounded up), never below 2:
        /// a sum of one member is its update.
        package func resolved(members: Int) -> Int {
            switch self {
            case .fraction(let share): max(2, Int((share * Double(members)).rounded(.up)))
            case .count(let count): max(2, count)
            }
        }
    }

    package var enabled = false
    /// Bits of the ring `Z_{2^bits}`; masked inputs travel as 4-byte values whatever it is.
    package var bits = 32
    package var threshold = Threshold.fraction(0.6)
    package var graph = Graph.complete
    /// The harary graph's degree (even, at least the threshold).
    package var degree: Int?
    /// The L2 bound each member clips its update to; the ring's scale is set for it.
    package var clipNorm: Double?
    /// Seconds a stage waits for answers before the members that did not answer have dropped.
    package var stageTimeout = 30.0
    /// Distributed DP: z, the summed discrete Gaussian noise of a full cohort over the L2
    /// sensitivity of one member's encoded update (nil: no noise). Each member adds its share.
    package var noiseMultiplier: Double?

    package init() {}

    enum Keys {
        static let enabled = ConfigurationKey<Bool>("enabled", default: false, shown: "`false`")
        static let bits = ConfigurationKey<Int>(
            "bits", default: 32, shown: "`32`",
            check: { (2...32).contains($0) ? nil : "it must be 2 to 32 (the ring Z_2^bits)" })
        static let threshold = ConfigurationKey<Double>(
            "threshold", default: 0.6, shown: "`0.6`",
            check: { value in
                (value > 0 && value < 1) || (value >= 2 && value == value.rounded() && value <= 1_000_000)
                    ? nil : "it must be a fraction of the cohort in (0, 1) or a count of members >= 2"
            })
        static let graph = ConfigurationKey<String>(
            "graph", default: Graph.complete.rawValue, shown: "`complete`", check: KeyCheck.oneOf(Graph.self))
        static let degree = ConfigurationKey<Int>(
            "degree", shown: "none",
            check: { $0 >= 2 && $0 % 2 == 0 ? nil : "it must be an even number >= 2" })
        static let clipNorm = ConfigurationKey<Double>(
            "clip_norm", shown: "none", check: KeyCheck.positive("each member clips its update to it"))
        static let stageTimeout = ConfigurationKey<Double>(
            "stage_timeout_seconds", default: 30, shown: "`30`", check: KeyCheck.positive())
        static let noiseMultiplier = ConfigurationKey<Double>(
            "noise_multiplier", shown: "none", check: KeyCheck.positive("0 adds no noise: no privacy"))
    }

    static let declared = [
        Keys.enabled.declared, Keys.bits.declared, Keys.threshold.declared, Keys.graph.declared,
        Keys.degree.declared, Keys.clipNorm.declared, Keys.stageTimeout.declared, Keys.noiseMultiplier.declared,
    ]

    /// The keys written in the file, for the check that nothing is set while disabled.
    private var written: [String] = []

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: NamedKey.self)
        enabled = try c.read(Keys.enabled) ?? enabled
        bits = try c.read(Keys.bits) ?? bits
        let threshold = try c.read(Keys.threshold) ?? 0.6
        self.threshold = threshold < 1 ? .fraction(threshold) : .count(Int(threshold))
        graph = try c.read(Keys.graph, as: Graph.self) ?? graph
        degree = try c.read(Keys.degree)
        clipNorm = try c.read(Keys.clipNorm)
        stageTimeout = try c.read(Keys.stageTimeout) ?? stageTimeout
        noiseMultiplier = try c.read(Keys.noiseMultiplier)
        written = [
            c.has(Keys.bits) ? Keys.bits.name : nil, c.has(Keys.threshold) ? Keys.threshold.name : nil,
            c.has(Keys.graph) ? Keys.graph.name : nil, c.has(Keys.degree) ? Keys.degree.name : nil,
            c.has(Keys.clipNorm) ? Keys.clipNorm.name : nil, c.has(Keys.stageTimeout) ? Keys.stageTimeout.name : nil,
            c.has(Keys.noiseMultiplier) ? Keys.noiseMultiplier.name : nil,
        ].compactMap { $0 }
    }

    private static func refuse(_ text: String) -> RuntimeError {
        RuntimeError(.invalidConfiguration, "privacy.secure_aggregation: " + text)
    }

    /// The communication graph of a cohort; the harary seed is public and per cohort.
    package func communicationGraph(seed: UInt64) -> CommunicationGraph {
        switch graph {
        case .complete: .complete
        case .harary: .harary(degree: degree ?? 2, seed: seed)
        }
    }

    /// The threshold of a cohort of `members`: of the cohort, or with the harary graph of a
    /// member's neighbourhood; at least 2 and below the cohort's size when it can be.
    package func threshold(cohort members: Int) -> Int {
        let neighbourhood = graph == .harary ? min(members - 1, degree ?? members) : members
        return min(threshold.resolved(members: neighbourhood), max(2, members - 1))
    }

    /// Each member's noise standard deviation in the update's units for cohorts of at most
    /// `members`: `z C / sqrt(members)`, so that a full cohort's summed noise is `z C`.
    package func memberNoise(members: Int) -> Double {
        guard let noiseMultiplier else { return 0 }
        return noiseMultiplier * (clipNorm ?? 1) / Double(max(members, 1)).squareRoot()
    }

    /// The quantiser every member and the server use for cohorts of at most `members`; its
    /// ring keeps room for the members' noise.
    package func quantizer(members: Int, dimension: Int) throws -> RingQuantizer {
        do {
            return try RingQuantizer(
                configuration: .init(
                    bits: bits, clipNorm: clipNorm ?? 1, maxMembers: max(members, 1),
                    noiseStandardDeviation: memberNoise(members: members)),
                dimension: dimension)
        } catch {
            throw Self.refuse(error.message)
        }
    }

    /// Each member's discrete Gaussian in ring units (nil without noise): `memberNoise` times
    /// the quantiser's scale.
    package func sampler(for quantizer: RingQuantizer) throws -> DiscreteGaussianSampler? {
        guard noiseMultiplier != nil else { return nil }
        do {
            return try DiscreteGaussianSampler(
                standardDeviation: memberNoise(members: quantizer.configuration.maxMembers) * quantizer.scale)
        } catch {
            throw Self.refuse("noise_multiplier: \(error.message)")
        }
    }

    /// The guarantee distributed DP states (nil without noise).
    package func guaranteeDescription(delta: Double) -> String? {
        guard noiseMultiplier != nil else { return nil }
        return
            "client-level, zero-out of one member's update in each cohort (distributed discrete Gaussian under secure aggregation, no amplification by sampling), delta=\(delta)"
    }

    /// Refuses, one line each, what the runtime cannot honour with the rest of `federation`.
    func validate(federation: FederationConfiguration) throws {
        guard enabled else {
            if let key = written.first {
                throw Self.refuse(
                    "key '\(key)' is set but enabled is false, so no update would be masked; set enabled: true or remove the key"
                )
            }
            return
        }
        guard clipNorm != nil else {
            throw Self.refuse(
                "clip_norm is required: each member clips its update to this L2 norm and the ring is scaled for it")
        }
        let kind = SchedulerKind(rawValue: federation.scheduler.kind)
        switch kind {
        case .fedavg, .fedavgm: break
        case .compass:
            // Each member's weight alpha S(tau) p_i must be a share in (0, 1] (docs/design.md 13).
            guard federation.scheduler.alpha <= 1 else {
                throw Self.refuse(
                    "scheduler.alpha is \(federation.scheduler.alpha); under secure aggregation each Compass member multiplies its update by alpha S(tau) p_i, which must not exceed 1: use alpha <= 1"
                )
            }
        case .fedasync:
            throw Self.refuse(
                "scheduler.kind fedasync applies each update alone, and a cohort of one would reveal it; use fedavg, fedavgm or compass"
            )
        default:
            throw Self.refuse(
                "scheduler.kind \(federation.scheduler.kind) is not supported under secure aggregation yet; use fedavg, fedavgm or compass"
            )
        }
        if federation.privacy.isClientLevel {
            throw Self.refuse(
                "client-level differential privacy clips and noises each update on the server, which sees only the cohort's sum; use privacy.mode none or record-level, and privacy.secure_aggregation.noise_multiplier for noise added by the members (distributed DP)"
            )
        }
        let rule = try federation.server.robust
        guard case .mean = rule else {
            throw Self.refuse(
                "server.robust_aggregation \(rule.name) looks at each update, which the server never sees; use mean")
        }
        let members = federation.clients.count
        if federation.scheduler.minClients < 3 {
            throw Self.refuse(
                "scheduler.min_clients is \(federation.scheduler.minClients); a cohort needs at least 3 members (a threshold of 2 below its size)"
            )
        }
        if case .count(let count) = threshold, count >= members {
            throw Self.refuse(
                "threshold \(count) must be below the cohort's size (clients.count \(members)) so that a member may drop"
            )
        }
        if graph == .harary {
            guard let degree else { throw Self.refuse("graph harary needs degree (an even number >= 2)") }
            if case .count(let count) = threshold, count > degree {
                throw Self.refuse("threshold \(count) exceeds the graph's degree \(degree)")
            }
        } else if degree != nil {
            throw Self.refuse("degree applies to graph harary only; remove it or set graph: harary")
        }
        _ = try sampler(for: try quantizer(members: members, dimension: 1))
    }
}
