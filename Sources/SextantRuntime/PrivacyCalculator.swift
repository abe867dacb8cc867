import Foundation
import SextantPrivacy

/// The arithmetic behind `sextant privacy epsilon`: ε of a sampled Gaussian mechanism run
/// for some steps, the noise multiplier for a target ε, and the subject-level ε of groups
/// of records. Plain numbers in and out, so the command only formats them.
///
/// Every figure is (ε, δ)-DP for the unit one sampled contribution protects (a record or a
/// subject in DP-SGD, a client in DP-FedAvg), at the δ given, under the adjacency the report
/// names (docs/design.md 7).
package enum PrivacyCalculator {
    /// What one sampled contribution protects, and so what the ε is about.
    ///
    /// `Sendable`: a plain value.
    package enum Unit: String, Sendable, Equatable, CaseIterable {
        case record
        case subject
        case client

        /// The unit and its adjacency, as the report prints them.
        package var statement: String {
            switch self {
            case .record:
                "record-level: add/remove one record (DP-SGD, Poisson sampling of records at the sample rate)"
            case .subject:
                "subject-level: add/remove all of one subject's records (subject-level DP-SGD, Poisson sampling of "
                    + "subjects at the sample rate, each silo holding the subject charged in full)"
            case .client:
                "client-level: add/remove one client (DP-FedAvg with Poisson client sampling at the sample rate, "
                    + "fedavg/fedavgm); with sample rate 1 under compass, fedbuff or fedasync the adjacency is "
                    + "zero-out with participation public"
            }
        }
    }

    /// The answer of `sextant privacy epsilon`.
    ///
    /// `Sendable`: a plain value.
    package struct Report: Sendable, Equatable {
        package var noiseMultiplier: Double
        package var sampleRate: Double
        package var steps: Int
        package var delta: Double
        /// ε at `delta` (the target's achieved ε when the noise was calibrated).
        package var epsilon: Double
        /// The Rényi order that gave ε; nil when nothing was released (ε is 0 exactly).
        package var order: Double?
        /// True when `noiseMultiplier` was calibrated to a target ε.
        package var calibrated: Bool
        /// What ε protects.
        package var unit = Unit.record
        /// Silos holding the subject, each running `steps` (subject level; 1 otherwise).
        package var silos = 1
        /// Subjects of `groupSize` records: (ε, δ) by group privacy.
        package var groupSize: Int?
        package var groupEpsilon: Double?
        package var groupDelta: Double?

        /// The lines the command prints.
        package var lines: [String] {
            var lines: [String] = []
            if calibrated {
                lines.append("noise multiplier \(Self.format(noiseMultiplier))")
            }
            let perSilo = silos > 1 ? " in each of \(silos) silos" : ""
            let setting = "noise \(Self.format(noiseMultiplier)), sample rate \(sampleRate), \(steps) steps\(perSilo)"
            if let order {
                lines.append(
                    "epsilon \(Self.format(epsilon)) at delta \(delta) (optimal order \(Self.format(order))) for \(setting)"
                )
            } else {
                lines.append("epsilon 0 at delta \(delta) for \(setting)")
                lines.append(
                    "note: with \(steps == 0 ? "0 steps" : "sample rate 0") nothing is released, so nothing is spent "
                        + "(the RDP conversion's floor, about 0.0035 at delta 1e-5, applies only once something is)")
            }
            lines.append("unit: \(unit.statement); delta \(delta)")
            if let groupSize, let groupEpsilon, let groupDelta {
                lines.append(
                    "group privacy: epsilon \(Self.format(groupEpsilon)) at delta \(groupDelta) for a subject with "
                        + "\(groupSize) records (k eps, k e^((k-1) eps) delta from the record level)")
            } else if let groupSize {
                lines.append(
                    "group privacy: no guarantee for a subject with \(groupSize) records at delta \(delta): the delta "
                        + "term k e^((k-1) eps) delta exceeds it at every record-level delta")
            }
            return lines
        }

        static func format(_ value: Double) -> String {
            value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.10g", value)
        }
    }

    /// ε after `steps` runs with `noise` and `sampleRate` at `delta`; with `groupSize`, also
    /// the subject-level guarantee for subjects with that many records.
    ///
    /// With 0 steps or sample rate 0 nothing is released: ε is 0 exactly (a mechanism that
    /// outputs nothing is (0, 0)-DP), not the small floor the RDP conversion charges.
    /// - Throws: ``RuntimeError`` naming the option: a noise multiplier that is not finite
    ///   and > 0 (0 adds no noise: no privacy), a sample rate outside [0, 1], negative steps,
    ///   a δ outside (0, 1) or a group size below 1.
    package static func epsilon(
        noise: Double, sampleRate: Double, steps: Int, delta: Double, groupSize: Int? = nil, unit: Unit = .record,
        silos: Int = 1
    ) throws -> Report {
        try checkNoise(noise)
        try check(sampleRate: sampleRate, steps: steps, delta: delta, groupSize: groupSize)
        try check(unit: unit, silos: silos, groupSize: groupSize)
        if steps == 0 || sampleRate == 0 {
            var report = Report(
                noiseMultiplier: noise, sampleRate: sampleRate, steps: steps, delta: delta, epsilon: 0, order: nil,
                calibrated: false, unit: unit, silos: silos)
            if let groupSize {
                report.groupSize = groupSize
                report.groupEpsilon = 0
                report.groupDelta = 0
            }
            return report
        }
        return try wrap { () throws(PrivacyError) -> Report in
            // A subject in several silos: every silo's steps composed (docs/design.md 7).
            let silo = SubjectLevelAccounting.Silo(noiseMultiplier: noise, sampleRate: sampleRate, steps: steps)
            let accountant = try SubjectLevelAccounting.accountant(
                of: Array(repeating: silo, count: silos), holding: 0..<silos)
            let guarantee = try accountant.epsilon(delta: delta)
            var report = Report(
                noiseMultiplier: noise, sampleRate: sampleRate, steps: steps, delta: delta, epsilon: guarantee.epsilon,
                order: guarantee.order, calibrated: false, unit: unit, silos: silos)
            if let groupSize {
                report.groupSize = groupSize
                if let group = try? accountant.groupGuarantee(groupSize: groupSize, delta: delta) {
                    report.groupEpsilon = group.epsilon
                    report.groupDelta = group.delta
                }
            }
            return report
        }
    }

    /// The smallest noise multiplier that keeps `steps` runs at `sampleRate` within
    /// (`targetEpsilon`, `delta`), with the ε it achieves.
    /// - Throws: ``RuntimeError`` naming the option, as ``epsilon(noise:sampleRate:steps:delta:groupSize:)``,
    ///   and when nothing is released (0 steps or sample rate 0: no noise is needed) or the
    ///   target cannot be met.
    package static func noiseMultiplier(
        targetEpsilon: Double, sampleRate: Double, steps: Int, delta: Double, groupSize: Int? = nil,
        unit: Unit = .record, silos: Int = 1
    ) throws -> Report {
        guard targetEpsilon > 0, targetEpsilon.isFinite else {
            throw RuntimeError(
                .invalidConfiguration, "--target-epsilon must be a finite number > 0, got \(format(targetEpsilon))")
        }
        try check(sampleRate: sampleRate, steps: steps, delta: delta, groupSize: groupSize)
        try check(unit: unit, silos: silos, groupSize: groupSize)
        // Identical silos compose like one silo running all their steps.
        let z = try wrap { () throws(PrivacyError) -> Double in
            try RDPAccountant.noiseMultiplier(
                forTargetEpsilon: targetEpsilon, delta: delta, sampleRate: sampleRate, steps: steps * silos)
        }
        var report = try epsilon(
            noise: z, sampleRate: sampleRate, steps: steps, delta: delta, groupSize: groupSize, unit: unit, silos: silos
        )
        report.calibrated = true
        return report
    }

    private static func checkNoise(_ noise: Double) throws {
        guard noise.isFinite, noise >= 0 else {
            throw RuntimeError(
                .invalidConfiguration,
                "--noise must be a finite number > 0 (the noise std over the L2 sensitivity), got \(format(noise))")
        }
        guard noise > 0 else {
            throw RuntimeError(
                .invalidConfiguration,
                "--noise 0 adds no noise: there is no privacy (epsilon is infinite); give a noise multiplier > 0")
        }
    }

    private static func check(sampleRate: Double, steps: Int, delta: Double, groupSize: Int?) throws {
        guard sampleRate >= 0, sampleRate <= 1 else {
            throw RuntimeError(
                .invalidConfiguration,
                "--sample-rate must lie in [0, 1] (the Poisson sampling rate, 1: all every step), got \(format(sampleRate))"
            )
        }
        guard steps >= 0 else {
            throw RuntimeError(.invalidConfiguration, "--steps must be 0 or more, got \(steps)")
        }
        guard delta > 0, delta < 1 else {
            throw RuntimeError(
                .invalidConfiguration,
                "--delta must lie in (0, 1), below 1/n for n protected units, got \(format(delta))")
        }
        if let groupSize, groupSize < 1 {
            throw RuntimeError(.invalidConfiguration, "--group-size must be 1 or more, got \(groupSize)")
        }
    }

    /// `--silos` belongs to subjects, `--group-size` to records.
    private static func check(unit: Unit, silos: Int, groupSize: Int?) throws {
        guard silos >= 1 else { throw RuntimeError(.invalidConfiguration, "--silos must be 1 or more, got \(silos)") }
        if silos > 1, unit != .subject {
            throw RuntimeError(
                .invalidConfiguration,
                "--silos composes the silos that hold one subject's records; it needs --unit subject, not \(unit.rawValue)"
            )
        }
        if groupSize != nil, unit != .record {
            throw RuntimeError(
                .invalidConfiguration,
                "--group-size turns a record-level epsilon into a subject's; it needs --unit record, not \(unit.rawValue)"
            )
        }
    }

    private static func format(_ value: Double) -> String { Report.format(value) }

    private static func wrap<T>(_ body: () throws(PrivacyError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw RuntimeError(.invalidConfiguration, error.message)
        }
    }
}
