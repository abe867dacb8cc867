import Foundation

extension AuditReport {
    /// The rows of the summary table: a label and one cell per attack.
    func tableRows() -> [(label: String, cells: [String])] {
        let confidence = Int((metricsConfiguration.confidence * 100).rounded())
        var rows: [(String, [String])] = []
        func row(_ label: String, _ cell: (AuditMetrics) -> String) {
            rows.append((label, attacks.map { cell($0.metrics) }))
        }
        row("AUC [\(confidence)% bootstrap CI]") {
            "\(format($0.auc)) [\(format($0.aucInterval.lowerBound)), \(format($0.aucInterval.upperBound))]"
        }
        for (index, rate) in metricsConfiguration.lowFalsePositiveRates.enumerated() {
            row("TPR at \(percent(rate)) FPR") { metrics in
                metrics.lowFalsePositiveRates[index].truePositiveRate.map { format($0) } ?? "n/a (too few non-members)"
            }
        }
        row("Advantage max(TPR - FPR)") { format($0.advantage) }
        row("Balanced accuracy, calibrated") {
            $0.calibrated.map { format($0.balancedAccuracy) } ?? "n/a (no known subjects)"
        }
        row("Balanced accuracy, best in hindsight") { format($0.hindsight.balancedAccuracy) }
        row("Precision / recall, calibrated") { metrics in
            guard let outcome = metrics.calibrated else { return "n/a" }
            return "\(outcome.precision.map { format($0) } ?? "n/a") / \(format(outcome.recall))"
        }
        let valid = independentInclusion == true
        row("One-run eps lower bound (v/r correct)") { metrics in
            guard valid, let oneRun = metrics.oneRunEpsilon else { return "n/a (inclusion not independent)" }
            return "\(format(oneRun.lowerBound)) (\(oneRun.correct)/\(oneRun.guesses))"
        }
        row("Threshold eps figure, calibrated") { $0.calibratedEpsilon.map { format($0.lowerBound) } ?? "n/a" }
        row("Threshold eps figure, hindsight") { format($0.hindsightEpsilon.lowerBound) }
        return rows
    }

    /// The terminal summary: what was audited, a table of both attacks, notes, the verdict.
    package func terminalSummary() -> String {
        var lines: [String] = []
        lines.append("Subject membership audit of run '\(run.id)' (model \(run.fingerprint))")
        lines.append(
            "Checkpoints evaluated: \(trajectories.versions.count) of \(run.storedCheckpoints) stored (versions \(trajectories.versions.first ?? 0)...\(trajectories.versions.last ?? 0))"
        )
        let knownMembers = subjects.filter { $0.known && $0.member }.count
        lines.append(
            "Subjects: \(subjects.count); known to the attacker: \(knownSubjectCount) (\(knownMembers) members); evaluated: \(evaluatedMembers) members, \(evaluatedNonMembers) non-members"
        )
        lines.append(
            "Accountant epsilon: \(run.accountantEpsilon.map { format($0) + (run.accountantGuarantee.map { " (\($0))" } ?? "") } ?? "none (not private)"); subject-level figures use delta = \(metricsConfiguration.delta) at \(Int((metricsConfiguration.confidence * 100).rounded()))% joint confidence (one-run: Steinke et al. 2023; threshold: four Clopper-Pearson bounds)"
        )
        if let secure = run.secureAggregation { lines.append("Secure aggregation: \(secure)") }
        lines.append("")
        let headers = attacks.map { attack in
            attack.attack.title + (attack.statistic.map { " (\($0.rawValue))" } ?? "")
        }
        let rows = tableRows()
        let labelWidth = max(rows.map(\.label.count).max() ?? 0, 6) + 2
        let cellWidths = attacks.indices.map { index in
            max(headers[index].count, rows.map { $0.cells[index].count }.max() ?? 0) + 2
        }
        func line(_ label: String, _ cells: [String]) -> String {
            label.padding(toLength: labelWidth, withPad: " ", startingAt: 0)
                + zip(cells, cellWidths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined()
        }
        lines.append(line("", headers))
        lines.append(String(repeating: "-", count: labelWidth + cellWidths.reduce(0, +)))
        for row in rows { lines.append(line(row.label, row.cells)) }
        var notes: [String] = []
        for (index, rate) in metricsConfiguration.lowFalsePositiveRates.enumerated() {
            if let note = attacks.first?.metrics.lowFalsePositiveRates[index].note {
                notes.append("TPR at \(percent(rate)) FPR omitted: \(note).")
            }
        }
        for attack in attacks where attack.attack == .trajectory {
            notes.append("Trajectory score: \(attack.method).")
        }
        notes.append(
            "Calibrated: threshold chosen on the known subjects; hindsight: best threshold on the evaluated subjects (an upper bound)."
        )
        if !notes.isEmpty {
            lines.append("")
            lines.append(contentsOf: notes.map { "Note: \($0)" })
        }
        lines.append("")
        lines.append("Verdict: \(verdict)")
        return lines.joined(separator: "\n")
    }
}

/// `0.1` as "10%", `0.001` as "0.1%".
func percent(_ rate: Double) -> String {
    let value = rate * 100
    return value == value.rounded() ? "\(Int(value))%" : "\(value)%"
}
