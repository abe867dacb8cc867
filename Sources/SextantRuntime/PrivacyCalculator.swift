import Foundation
import SextantPrivacy

/// The arithmetic behind `sextant privacy epsilon`: ε of a sampled Gaussian mechanism run
/// for some steps, the noise multiplier for a target ε, and the subject-level ε of groups
/// of records. Plain numbers in and out, so the command only formats them.
public enum PrivacyCalculator {
    /// The answer of `sextant privacy epsilon`.
    ///
    /// `Sendable`: a plain value.
    public struct Report: Sendable, Equatable {
        public var noiseMultiplier: Double
        public var sampleRate: Double
        public var steps: Int
        public var delta: Double
        /// ε at `delta` (the target's achieved ε when the noise was calibrated).
        public var epsilon: Double
        /// The Rényi order that gave ε.
        public var order: Double
        /// True when `noiseMultiplier` was calibrated to a target ε.
        public var calibrated: Bool
        /// Subjects of `groupSize` records: (ε, δ) by group privacy.
        public var groupSize: Int?
        public var groupEpsilon: Double?
        public var groupDelta: Double?

        /// The lines the command prints.
        public var lines: [String] {
            var lines: [String] = []
            if calibrated {
                lines.append("noise multiplier \(Self.format(noiseMultiplier))")
            }
            lines.append(
                "epsilon \(Self.format(epsilon)) at delta \(delta) (optimal order \(Self.format(order))) for "
                    + "noise \(Self.format(noiseMultiplier)), sample rate \(sampleRate), \(steps) steps")
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
    public static func epsilon(
        noise: Double, sampleRate: Double, steps: Int, delta: Double, groupSize: Int? = nil
    ) throws -> Report {
        try wrap { () throws(PrivacyError) -> Report in
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
    public static func noiseMultiplier(
        targetEpsilon: Double, sampleRate: Double, steps: Int, delta: Double, groupSize: Int? = nil
    ) throws -> Report {
        let z = try wrap { () throws(PrivacyError) -> Double in
            try RDPAccountant.noiseMultiplier(
                forTargetEpsilon: targetEpsilon, delta: delta, sampleRate: sampleRate, steps: steps)
        }
        var report = try epsilon(noise: z, sampleRate: sampleRate, steps: steps, delta: delta, groupSize: groupSize)
        report.calibrated = true
        return report
    }

    private static func wrap<T>(_ body: () throws(PrivacyError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw RuntimeError(.invalidConfiguration, error.message)
        }
    }
}
