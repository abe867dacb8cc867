import Foundation
import SextantPrivacy

/// The arithmetic behind `sextant privacy epsilon`: ε of a sampled Gaussian mechanism run
/// for some steps, the noise multiplier for a target ε, and the subject-level ε of groups
/// of records. Plain numbers in and out, so the command only formats them.
///
/// Every figure is (ε, δ)-DP for the unit one sampled contribution protects (a record in
/// DP-SGD, a client in DP-FedAvg), add/remove adjacency, at the δ given (docs/design.md 7).
package enum PrivacyCalculator {
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
            let setting = "noise \(Self.format(noiseMultiplier)), sample rate \(sampleRate), \(steps) steps"
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
            if let groupSize, let groupEpsilon, let groupDelta {
                lines.append(
                    "subject-level epsilon \(Self.format(groupEpsilon)) at delta \(groupDelta) for subjects with "
                        + "\(groupSize) records (group privacy)")
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
        noise: Double, sampleRate: Double, steps: Int, delta: Double, groupSize: Int? = nil
    ) throws -> Report {
        try checkNoise(noise)
        try check(sampleRate: sampleRate, steps: steps, delta: delta, groupSize: groupSize)
        if steps == 0 || sampleRate == 0 {
            var report = Report(
                noiseMultiplier: noise, sampleRate: sampleRate, steps: steps, delta: delta, epsilon: 0, order: nil,
                calibrated: false)
            if let groupSize {
                report.groupSize = groupSize
                report.groupEpsilon = 0
                report.groupDelta = 0
            }
            return report
        }
        return try wrap { () throws(PrivacyError) -> Report in
            var accountant = RDPAccountant()
            try accountant.compose(noiseMultiplier: noise, sampleRate: sampleRate, steps: steps)
            let guarantee = try accountant.epsilon(delta: delta)
            var report = Report(
                noiseMultiplier: noise, sampleRate: sampleRate, steps: steps, delta: delta, epsilon: guarantee.epsilon,
                order: guarantee.order, calibrated: false)
            if let groupSize {
                let group = try accountant.groupGuarantee(groupSize: groupSize, delta: delta)
                report.groupSize = groupSize
                report.groupEpsilon = group.epsilon
                report.groupDelta = group.delta
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
        targetEpsilon: Double, sampleRate: Double, steps: Int, delta: Double, groupSize: Int? = nil
    ) throws -> Report {
        guard targetEpsilon > 0, targetEpsilon.isFinite else {
            throw RuntimeError(
                .invalidConfiguration, "--target-epsilon must be a finite number > 0, got \(format(targetEpsilon))")
        }
        try check(sampleRate: sampleRate, steps: steps, delta: delta, groupSize: groupSize)
        let z = try wrap { () throws(PrivacyError) -> Double in
            try RDPAccountant.noiseMultiplier(
                forTargetEpsilon: targetEpsilon, delta: delta, sampleRate: sampleRate, steps: steps)
        }
        var report = try epsilon(noise: z, sampleRate: sampleRate, steps: steps, delta: delta, groupSize: groupSize)
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

    private static func format(_ value: Double) -> String { Report.format(value) }

    private static func wrap<T>(_ body: () throws(PrivacyError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw RuntimeError(.invalidConfiguration, error.message)
        }
    }
}
