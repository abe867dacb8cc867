import Foundation
import SextantML
import SextantStore

/// The subject membership-inference audit of a federation's checkpoints (docs/design.md
/// section 8, after Suri et al. 2022): evaluate every checkpoint on each subject's audit
/// samples, run both attacks, calibrate their thresholds on the K subjects the attacker
/// knows, and measure them on the others. Sendable.
package struct SubjectAudit: Sendable {
    package struct Configuration: Sendable {
        /// Subjects whose membership the attacker knows (half members, half non-members);
        /// they calibrate the thresholds and are left out of the metrics.
        package var knownSubjects = 10
        /// Seed of the choice of known subjects.
        package var knownSubjectSeed: UInt64 = 0
        /// Evaluate only the latest checkpoint (the trajectory attack is then skipped).
        package var finalOnly = false
        /// Threads evaluating checkpoints.
        package var workers = ProcessInfo.processInfo.activeProcessorCount
        package var metrics = AuditMetrics.Configuration()

        package init() {}
    }

    package var configuration: Configuration

    package init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Audits run `runID` (the latest run when nil) of `store`. `membership` maps every
    /// subject of `auditSet` to whether it is a member. `progress(done, total)` counts
    /// evaluated checkpoints, from worker threads.
    package func run(
        store: CheckpointStore, runID: String? = nil, auditSet: Dataset, membership: [Int32: Bool],
        independentInclusion: Bool? = nil, progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
    ) throws -> AuditReport {
        let run: Run
        if let runID {
            guard let found = try store.run(id: runID) else {
                let known = try store.runs().map(\.id)
                throw AuditError(
                    .noCheckpoints,
                    "\(store.path) has no run '\(runID)'; runs: \(known.isEmpty ? "none" : known.joined(separator: ", "))"
                )
            }
            run = found
        } else {
            guard let latest = try store.latestRun() else {
                throw AuditError(.noCheckpoints, "\(store.path) has no runs")
            }
            run = latest
        }
        let model = try ModelFingerprint(parsing: run.fingerprint)
        let evaluator = try SubjectLossEvaluator(model: model, auditSet: auditSet)
        let summaries = try store.checkpointSummaries(run: run.id)
        let trajectories = try evaluator.trajectories(
            store: store, run: run.id, finalOnly: configuration.finalOnly, workers: configuration.workers,
            progress: progress)
        let info = AuditReport.RunInfo(
            id: run.id, fingerprint: run.fingerprint, config: run.config, storedCheckpoints: summaries.count,
            accountantEpsilon: summaries.last?.epsilon)
        var report = try analyze(trajectories, membership: membership, run: info)
        report.independentInclusion = independentInclusion
        return report
    }

    /// Runs both attacks on trajectories that are already computed.
    package func analyze(
        _ trajectories: LossTrajectories, membership: [Int32: Bool], run: AuditReport.RunInfo
    ) throws -> AuditReport {
        if let missing = trajectories.subjects.first(where: { membership[$0] == nil }) {
            throw AuditError(.invalidArgument, "subject \(missing) of the audit set is not in the ground truth")
        }
        let isMember = trajectories.subjects.map { membership[$0]! }
        let known = Self.chooseKnownSubjects(
            subjects: trajectories.subjects, isMember: isMember, count: configuration.knownSubjects,
            seed: configuration.knownSubjectSeed)
        let knownIndices = trajectories.subjects.indices.filter { known.contains(trajectories.subjects[$0]) }
        let evaluated = trajectories.subjects.indices.filter { !known.contains(trajectories.subjects[$0]) }

        func result(
            _ attack: MembershipAttack, statistic: TrajectoryStatistic?, method: String,
            knownAUCs: [String: Double]?, scores: [Double]
        ) throws -> AuditReport.AttackResult {
            let threshold = ThresholdCalibration.calibrate(
                scores: knownIndices.map { scores[$0] }, isMember: knownIndices.map { isMember[$0] })
            let metrics = try AuditMetrics(
                scores: evaluated.map { scores[$0] }, isMember: evaluated.map { isMember[$0] },
                calibratedThreshold: threshold, configuration: configuration.metrics)
            return AuditReport.AttackResult(
                attack: attack, statistic: statistic, method: method, knownSubjectAUCs: knownAUCs,
                scores: evaluated.map {
                    .init(id: trajectories.subjects[$0], member: isMember[$0], score: scores[$0])
                },
                metrics: metrics)
        }

        var attacks = [
            try result(
                .finalModel, statistic: nil,
                method:
                    "score = -(mean loss of checkpoint \(trajectories.versions.last ?? 0) on the subject's samples)",
                knownAUCs: nil, scores: trajectories.finalLosses.map { -$0 })
        ]
        if trajectories.versions.count >= 2 {
            var knownAUCs: [String: Double] = [:]
            var chosen = TrajectoryStatistic.combined
            var chosenScores = TrajectoryStatistic.combined.scores(trajectories.losses)
            var bestAUC = -Double.infinity
            for statistic in [TrajectoryStatistic.combined] + TrajectoryStatistic.basic {
                let scores = statistic.scores(trajectories.losses)
                guard
                    let auc = AreaUnderCurve.compute(
                        scores: knownIndices.map { scores[$0] }, isMember: knownIndices.map { isMember[$0] })
                else { continue }
                knownAUCs[statistic.rawValue] = auc
                if auc > bestAUC {
                    (bestAUC, chosen, chosenScores) = (auc, statistic, scores)
                }
            }
            let method =
                knownAUCs.isEmpty
                ? "no known members and non-members to choose with: the combined statistic (mean of the four standardised statistics)"
                : "the statistic with the highest AUC on the \(knownIndices.count) known subjects (\(chosen.rawValue)); candidates: fraction of decreases, mean, last minus first, minimum, and their standardised mean"
            attacks.append(
                try result(
                    .trajectory, statistic: chosen, method: method,
                    knownAUCs: knownAUCs.isEmpty ? nil : knownAUCs, scores: chosenScores))
        }
        return AuditReport(
            generated: Date(), run: run,
            subjects: trajectories.subjects.indices.map {
                .init(
                    id: trajectories.subjects[$0], member: isMember[$0],
                    known: known.contains(trajectories.subjects[$0]))
            },
            metricsConfiguration: configuration.metrics, attacks: attacks, trajectories: trajectories)
    }

    /// The subjects whose membership the attacker knows: ceil(count / 2) members and
    /// floor(count / 2) non-members chosen at random with `seed`, always leaving at least
    /// one member and one non-member to evaluate.
    package static func chooseKnownSubjects(
        subjects: [Int32], isMember: [Bool], count: Int, seed: UInt64
    ) -> Set<Int32> {
        guard count > 0 else { return [] }
        var generator = AuditRandom(seed: seed)
        var members = subjects.indices.filter { isMember[$0] }.map { subjects[$0] }
        var nonMembers = subjects.indices.filter { !isMember[$0] }.map { subjects[$0] }
        members.shuffle(using: &generator)
        nonMembers.shuffle(using: &generator)
        let memberCount = min((count + 1) / 2, max(members.count - 1, 0))
        let nonMemberCount = min(count / 2, max(nonMembers.count - 1, 0))
        return Set(members.prefix(memberCount)).union(nonMembers.prefix(nonMemberCount))
    }
}
