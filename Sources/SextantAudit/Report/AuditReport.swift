import Foundation

/// The outcome of a subject membership audit: what was audited, both attacks' scores and
/// metrics, and the loss trajectories. Sendable and Codable (`--json` writes it).
package struct AuditReport: Sendable, Codable {
    /// The audited run.
    package struct RunInfo: Sendable, Codable {
        package var id: String
        package var fingerprint: String
        /// The run's configuration text as stored with it.
        package var config: String
        /// Checkpoints stored for the run.
        package var storedCheckpoints: Int
        /// The accountant's epsilon stored with the latest checkpoint; nil: not private.
        package var accountantEpsilon: Double?
        /// What that epsilon protects: its unit, adjacency and delta, as the run states it
        /// (nil: not known).
        package var accountantGuarantee: String?
        /// Its unit (`record`, `subject` or `client`) and delta, to compare like with like.
        package var accountantUnit: String?
        package var accountantDelta: Double?
        /// How the run used secure aggregation, from its configuration (nil: it did not, or
        /// not known): the server then held only cohorts' sums (docs/design.md 13).
        package var secureAggregation: String?

        package init(
            id: String, fingerprint: String, config: String, storedCheckpoints: Int, accountantEpsilon: Double?
        ) {
            self.id = id
            self.fingerprint = fingerprint
            self.config = config
            self.storedCheckpoints = storedCheckpoints
            self.accountantEpsilon = accountantEpsilon
        }
    }

    /// One subject: its true membership and whether the attacker knew it.
    package struct SubjectInfo: Sendable, Codable, Equatable {
        package var id: Int32
        package var member: Bool
        package var known: Bool
    }

    /// One evaluated subject's score.
    package struct SubjectScore: Sendable, Codable, Equatable {
        package var id: Int32
        package var member: Bool
        package var score: Double
    }

    /// One attack's result on the evaluated (not known) subjects.
    package struct AttackResult: Sendable, Codable {
        package var attack: MembershipAttack
        /// For the trajectory attack: the statistic used.
        package var statistic: TrajectoryStatistic?
        /// How the score was chosen, in words.
        package var method: String
        /// For the trajectory attack: each candidate statistic's AUC on the known subjects.
        package var knownSubjectAUCs: [String: Double]?
        package var scores: [SubjectScore]
        package var metrics: AuditMetrics
    }

    package var generated: Date
    package var run: RunInfo
    /// True when the ground truth says every subject was included by an independent fair
    /// coin before training: the one-run bound is then valid (nil: not known, not valid).
    package var independentInclusion: Bool?
    package var subjects: [SubjectInfo]
    package var metricsConfiguration: AuditMetrics.Configuration
    package var attacks: [AttackResult]
    package var trajectories: LossTrajectories

    package var knownSubjectCount: Int { subjects.filter(\.known).count }
    package var evaluatedMembers: Int { subjects.filter { !$0.known && $0.member }.count }
    package var evaluatedNonMembers: Int { subjects.filter { !$0.known && !$0.member }.count }

    /// The attack with the highest AUC.
    package var strongestAttack: AttackResult? {
        attacks.max { $0.metrics.auc < $1.metrics.auc }
    }

    /// The attacks whose AUC is above `threshold` (the `--fail-above-auc` gate).
    package func attacks(withAUCAbove threshold: Double) -> [AttackResult] {
        attacks.filter { $0.metrics.auc > threshold }
    }

    /// The plain-language conclusion.
    package var verdict: String {
        guard let strongest = strongestAttack else { return "No attack could be evaluated." }
        let m = strongest.metrics
        let known = knownSubjectCount
        let who = known > 0 ? "An attacker who knows \(known) subjects' membership" : "An attacker"
        var text =
            "\(who) can tell members from non-members with AUC \(format(m.auc)) [\(format(m.aucInterval.lowerBound)), \(format(m.aucInterval.upperBound))] (\(strongest.attack.title.lowercased()) attack, \(m.members + m.nonMembers) subjects evaluated)"
        if m.aucInterval.lowerBound > 0.5 {
            text += ": the federation leaks measurable information about individual subjects."
        } else {
            text += ": no leakage is detectable with this many subjects; this is not a proof of privacy."
        }
        let delta = metricsConfiguration.delta
        let percent = Int((metricsConfiguration.confidence * 100).rounded())
        guard independentInclusion == true else {
            return text
                + " No epsilon lower bound is claimed: the subjects were not included by independent coins "
                + "(synth --independent-inclusion), which the one-run bound needs."
        }
        let oneRun = attacks.compactMap { $0.metrics.oneRunEpsilon?.lowerBound }.max() ?? 0
        text +=
            " One-run lower bound on subject-level epsilon: \(format(oneRun)) at delta \(delta) (\(percent)% confidence)."
        if let epsilon = run.accountantEpsilon {
            let stated = run.accountantGuarantee.map { " (\($0))" } ?? ""
            if run.accountantUnit == "subject", run.accountantDelta == delta {
                text +=
                    " The accountant's epsilon \(format(epsilon))\(stated) is subject-level at the same delta, so the one-run lower bound must stay below it"
                text +=
                    oneRun <= epsilon
                    ? "; it does."
                    : "; it does not: the accounting or the training does not deliver the stated guarantee."
            } else {
                text +=
                    " The accountant's epsilon \(format(epsilon))\(stated) is not a subject-level figure at delta \(delta); it bounds a subject only when the subject is one record or one client, and compares with the one-run figure only in the same unit at the same delta."
                if oneRun > epsilon {
                    text +=
                        " The subject-level bound exceeds it: subjects get less protection than one record or client."
                }
            }
        } else {
            text += " The run was trained without differential privacy (no accountant epsilon)."
        }
        return text
    }

    /// The report as JSON (infinite thresholds as the strings "Infinity" / "-Infinity").
    package func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try encoder.encode(self)
    }
}

/// Three decimals, for reports.
func format(_ value: Double, digits: Int = 3) -> String {
    guard value.isFinite else { return value > 0 ? "inf" : value < 0 ? "-inf" : "nan" }
    return String(format: "%.\(digits)f", value)
}
