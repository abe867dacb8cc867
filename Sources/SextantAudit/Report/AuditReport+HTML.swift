import Foundation

extension AuditReport {
    private static let attackColors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    private static let memberColor = "#d62728"
    private static let nonMemberColor = "#1f77b4"

    /// One self-contained HTML page: verdict, run, metrics table, ROC curves on log-log
    /// axes, score histograms and loss trajectories as inline SVG. It references nothing
    /// outside itself (no scripts, stylesheets, fonts or images).
    package func html() -> String {
        var page: [String] = []
        page.append("<!DOCTYPE html>")
        page.append("<html lang=\"en\">")
        page.append("<head>")
        page.append("<meta charset=\"utf-8\">")
        page.append("<title>Sextant subject membership audit: run \(escapeHTML(run.id))</title>")
        page.append("<style>\(Self.styleSheet)</style>")
        page.append("</head>")
        page.append("<body>")
        page.append("<h1>Subject membership audit</h1>")
        let leaks = (strongestAttack?.metrics.aucInterval.lowerBound ?? 0) > 0.5
        page.append("<p class=\"verdict \(leaks ? "leak" : "noleak")\">\(escapeHTML(verdict))</p>")

        page.append("<h2>What was audited</h2>")
        page.append("<table class=\"facts\">")
        let knownMembers = subjects.filter { $0.known && $0.member }.count
        let facts: [(String, String)] = [
            ("Run", run.id),
            ("Model", run.fingerprint),
            ("Checkpoints evaluated", "\(trajectories.versions.count) of \(run.storedCheckpoints) stored"),
            ("Subjects", "\(subjects.count) (\(subjects.filter(\.member).count) members)"),
            (
                "Known to the attacker",
                "\(knownSubjectCount) (\(knownMembers) members, \(knownSubjectCount - knownMembers) non-members)"
            ),
            ("Evaluated", "\(evaluatedMembers) members, \(evaluatedNonMembers) non-members"),
            (
                "Accountant epsilon",
                run.accountantEpsilon.map { format($0) } ?? "none: the run is not differentially private"
            ),
            (
                "Empirical bound settings",
                "delta = \(metricsConfiguration.delta), \(Int((metricsConfiguration.confidence * 100).rounded()))% joint confidence (one-run bound of Steinke et al. 2023; four Clopper-Pearson bounds at the threshold); AUC interval from \(metricsConfiguration.bootstrapResamples) bootstrap resamples (seed \(metricsConfiguration.seed))"
            ),
            ("Generated", ISO8601DateFormatter().string(from: generated)),
        ]
        for (key, value) in facts {
            page.append("<tr><th>\(escapeHTML(key))</th><td>\(escapeHTML(value))</td></tr>")
        }
        page.append("</table>")

        page.append("<h2>Attacks</h2>")
        page.append("<table class=\"metrics\"><thead><tr><th></th>")
        for attack in attacks {
            let name = attack.attack.title + (attack.statistic.map { " (\($0.rawValue))" } ?? "")
            page.append("<th>\(escapeHTML(name))</th>")
        }
        page.append("</tr></thead><tbody>")
        for row in tableRows() {
            page.append(
                "<tr><th>\(escapeHTML(row.label))</th>" + row.cells.map { "<td>\(escapeHTML($0))</td>" }.joined()
                    + "</tr>")
        }
        page.append("</tbody></table>")
        page.append("<ul class=\"notes\">")
        page.append(
            "<li>Final-model attack: a subject is called a member when the final model's mean loss on its samples is low.</li>"
        )
        for attack in attacks where attack.attack == .trajectory {
            page.append("<li>Trajectory attack: \(escapeHTML(attack.method)).</li>")
        }
        page.append(
            "<li>Calibrated: the threshold is chosen on the known subjects only (the realistic attacker). Hindsight: the best threshold on the evaluated subjects (an upper bound).</li>"
        )
        page.append(
            "<li>The one-run epsilon is a lower bound on subject-level epsilon at the stated delta and confidence when every subject was included by an independent fair coin before training (synth --independent-inclusion). The threshold figures treat the subjects as independent trials of one neighbouring pair: a measure of the attack, not a bound, otherwise; the hindsight one is optimistic.</li>"
        )
        for (index, rate) in metricsConfiguration.lowFalsePositiveRates.enumerated() {
            if let note = attacks.first?.metrics.lowFalsePositiveRates[index].note {
                page.append("<li>TPR at \(percent(rate)) FPR is omitted: \(escapeHTML(note)).</li>")
            }
        }
        page.append("</ul>")

        page.append("<h2>Figures</h2>")
        page.append("<div class=\"figures\">")
        page.append(rocPlot())
        for attack in attacks { page.append(histogram(attack)) }
        if trajectories.versions.count >= 2 { page.append(trajectoryPlot()) }
        page.append("</div>")

        page.append("<h2>Run configuration</h2>")
        page.append("<pre>\(escapeHTML(run.config.isEmpty ? "(none stored)" : run.config))</pre>")
        page.append(
            "<p class=\"footer\">Threat model (Suri et al. 2022): the attacker has samples from each subject's distribution, not the training records, and knows the membership of a few subjects. A subject is a member when any silo trained on its records.</p>"
        )
        page.append("</body>")
        page.append("</html>")
        return page.joined(separator: "\n") + "\n"
    }

    private func rocPlot() -> String {
        let counts = attacks.flatMap { [$0.metrics.members, $0.metrics.nonMembers] }
        let largest = Double(counts.max() ?? 10)
        let floor = max(1e-4, pow(10, log10(1 / (2 * largest)).rounded(.down)))
        var plot = SVGPlot(
            title: "ROC (log-log)", x: .init(label: "False-positive rate", range: floor...1, scale: .log),
            y: .init(label: "True-positive rate", range: floor...1, scale: .log))
        plot.line([(floor, floor), (1, 1)], color: "#888888", label: "chance", width: 1, dashed: true)
        for (index, attack) in attacks.enumerated() {
            let points = attack.metrics.roc.rates.map {
                (max($0.falsePositiveRate, floor), max($0.truePositiveRate, floor))
            }
            plot.line(
                points, color: Self.attackColors[index % Self.attackColors.count],
                label: "\(attack.attack.title) (AUC \(format(attack.metrics.auc)))", width: 2)
        }
        return plot.render()
    }

    private func histogram(_ attack: AttackResult) -> String {
        let scores = attack.scores.map(\.score)
        var low = scores.min() ?? 0
        var high = scores.max() ?? 1
        if high <= low { (low, high) = (low - 0.5, high + 0.5) }
        let bins = 20
        let width = (high - low) / Double(bins)
        func counts(member: Bool) -> [Int] {
            var counts = [Int](repeating: 0, count: bins)
            for entry in attack.scores where entry.member == member {
                counts[min(bins - 1, Int((entry.score - low) / width))] += 1
            }
            return counts
        }
        let members = counts(member: true)
        let nonMembers = counts(member: false)
        let top = Double(max(members.max() ?? 1, nonMembers.max() ?? 1, 1))
        let scoreLabel =
            attack.attack == .finalModel
            ? "Score (-final loss)" : "Score (\(attack.statistic?.rawValue ?? "trajectory"))"
        var plot = SVGPlot(
            title: "\(attack.attack.title): score histogram", x: .init(label: scoreLabel, range: low...high),
            y: .init(label: "Subjects", range: 0...(top * 1.1)))
        for bin in 0..<bins {
            let x0 = low + Double(bin) * width
            plot.bar(from: x0, to: x0 + width, height: Double(nonMembers[bin]), color: Self.nonMemberColor)
            plot.bar(from: x0, to: x0 + width, height: Double(members[bin]), color: Self.memberColor)
        }
        if let threshold = attack.metrics.calibrated?.threshold, threshold.isFinite, (low...high).contains(threshold) {
            plot.line(
                [(threshold, 0), (threshold, top * 1.1)], color: "#000000", label: "calibrated threshold", width: 1,
                dashed: true)
        }
        plot.addLegend("members", color: Self.memberColor)
        plot.addLegend("non-members", color: Self.nonMemberColor)
        return plot.render()
    }

    /// A few evaluated subjects' trajectories (thin) and the mean trajectory of members
    /// and of non-members (thick).
    private func trajectoryPlot() -> String {
        let versions = trajectories.versions.map(Double.init)
        let evaluated = subjects.enumerated().filter { !$0.element.known }
        func pick(_ member: Bool) -> [Int] {
            let indices = evaluated.filter { $0.element.member == member }.map(\.offset)
            let step = max(1, indices.count / 4)
            return Array(stride(from: 0, to: indices.count, by: step).map { indices[$0] }.prefix(4))
        }
        func mean(_ member: Bool) -> [Double] {
            let rows = evaluated.filter { $0.element.member == member }.map { trajectories.losses[$0.offset] }
            guard !rows.isEmpty else { return [] }
            return versions.indices.map { c in rows.reduce(0) { $0 + $1[c] } / Double(rows.count) }
        }
        let shown = pick(true) + pick(false)
        let memberMean = mean(true)
        let nonMemberMean = mean(false)
        let values = shown.flatMap { trajectories.losses[$0] } + memberMean + nonMemberMean
        let finite = values.filter(\.isFinite)
        var low = finite.min() ?? 0
        var high = finite.max() ?? 1
        if high <= low { (low, high) = (low - 0.5, high + 0.5) }
        var plot = SVGPlot(
            title: "Loss trajectories",
            x: .init(label: "Checkpoint version", range: versions.first!...max(versions.last!, versions.first! + 1)),
            y: .init(label: "Mean loss on the subject's samples", range: low...high))
        for index in shown {
            let color = subjects[index].member ? Self.memberColor : Self.nonMemberColor
            plot.line(Array(zip(versions, trajectories.losses[index])), color: color, width: 1, opacity: 0.45)
        }
        if !memberMean.isEmpty {
            plot.line(
                Array(zip(versions, memberMean)), color: Self.memberColor, label: "members (mean; thin: examples)",
                width: 3)
        }
        if !nonMemberMean.isEmpty {
            plot.line(
                Array(zip(versions, nonMemberMean)), color: Self.nonMemberColor,
                label: "non-members (mean; thin: examples)", width: 3)
        }
        return plot.render()
    }

    private static let styleSheet = """
        body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; padding: 0 1em; }
        h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
        .verdict { padding: 0.8em 1em; border-radius: 6px; font-size: 1.05em; }
        .verdict.leak { background: #fdecea; border-left: 5px solid #d62728; }
        .verdict.noleak { background: #eaf4fd; border-left: 5px solid #1f77b4; }
        table { border-collapse: collapse; margin: 0.5em 0; }
        th, td { padding: 4px 10px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
        table.metrics td { font-family: Menlo, Consolas, monospace; }
        .figures { display: flex; flex-wrap: wrap; gap: 12px; }
        svg.plot { background: #fff; border: 1px solid #ddd; }
        svg .grid { stroke: #eee; } svg .frame { fill: none; stroke: #999; }
        svg text { font-size: 11px; fill: #333; } svg .plot-title { font-size: 13px; font-weight: bold; }
        svg .axis { font-size: 12px; }
        pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }
        .notes li { margin: 0.2em 0; } .footer { color: #666; font-size: 0.9em; }
        """
}
