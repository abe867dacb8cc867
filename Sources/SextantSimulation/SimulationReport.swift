import Foundation
import SextantRuntime

/// One evaluation of the global model during a simulated run.
package struct SimulationPoint: Sendable, Equatable, Codable {
    package var algorithm: String
    package var version: Int
    /// Virtual seconds since the federation started.
    package var virtualSeconds: Double
    package var accuracy: Double
    package var loss: Double

    package init(algorithm: String, version: Int, virtualSeconds: Double, accuracy: Double, loss: Double) {
        self.algorithm = algorithm
        self.version = version
        self.virtualSeconds = virtualSeconds
        self.accuracy = accuracy
        self.loss = loss
    }
}

/// What one algorithm did in a simulation: its accuracy curve and where its time went.
package struct AlgorithmOutcome: Sendable, Equatable, Codable {
    package var algorithm: String
    /// Evaluations in version order, starting with the initial model (version 0, time 0).
    package var points: [SimulationPoint]
    /// Model versions produced (aggregations).
    package var versions: Int
    /// Updates applied by those aggregations, and tasks the scheduler assigned.
    package var updatesApplied: Int
    package var tasksAssigned: Int
    /// Virtual time of the last event the run handled.
    package var virtualSeconds: Double
    /// Wall-clock seconds: in all, in local training, in evaluation.
    package var wallSeconds: Double
    package var trainingSeconds: Double
    package var evaluationSeconds: Double

    package init(
        algorithm: String, points: [SimulationPoint], versions: Int, updatesApplied: Int, tasksAssigned: Int,
        virtualSeconds: Double, wallSeconds: Double = 0, trainingSeconds: Double = 0, evaluationSeconds: Double = 0
    ) {
        self.algorithm = algorithm
        self.points = points
        self.versions = versions
        self.updatesApplied = updatesApplied
        self.tasksAssigned = tasksAssigned
        self.virtualSeconds = virtualSeconds
        self.wallSeconds = wallSeconds
        self.trainingSeconds = trainingSeconds
        self.evaluationSeconds = evaluationSeconds
    }

    /// The first evaluation at or above `target`.
    package func firstPoint(reaching target: Double) -> SimulationPoint? {
        points.first { $0.accuracy >= target }
    }

    package var finalAccuracy: Double? { points.last?.accuracy }
    package var bestAccuracy: Double? { points.map(\.accuracy).max() }

    /// Share of the wall time spent outside local training and evaluation: the
    /// simulator's own cost (scheduling, aggregation, bookkeeping).
    package var overheadFraction: Double {
        wallSeconds > 0 ? max(0, wallSeconds - trainingSeconds - evaluationSeconds) / wallSeconds : 0
    }
}

/// The outcome of `sextant simulate`: every algorithm's curve, written as CSV, a Markdown
/// table and an SVG plot. `Sendable`: plain values.
package struct SimulationReport: Sendable, Equatable {
    /// The accuracy whose first crossing the table reports, if any.
    package var targetAccuracy: Double?
    package var outcomes: [AlgorithmOutcome]

    package init(targetAccuracy: Double?, outcomes: [AlgorithmOutcome]) {
        self.targetAccuracy = targetAccuracy
        self.outcomes = outcomes
    }

    package static let csvHeader = "algorithm,version,virtual_seconds,accuracy,loss"

    /// One row per evaluation: `algorithm,version,virtual_seconds,accuracy,loss`.
    package var csv: String {
        var lines = [Self.csvHeader]
        for outcome in outcomes {
            for point in outcome.points {
                lines.append(
                    "\(point.algorithm),\(point.version),\(Self.format(point.virtualSeconds, digits: 3)),"
                        + "\(Self.format(point.accuracy, digits: 4)),\(Self.format(point.loss, digits: 4))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A Markdown table: per algorithm the virtual time and version at which it first
    /// reached the target, its final and best accuracy, versions and updates.
    package var table: String {
        let target = targetAccuracy.map { Self.format($0 * 100, digits: 1) + "%" } ?? "target"
        var lines = [
            "| algorithm | time to \(target) (s) | version at \(target) | final accuracy | best accuracy | versions | updates | virtual time (s) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for outcome in outcomes {
            let reached = targetAccuracy.flatMap { outcome.firstPoint(reaching: $0) }
            let time =
                reached.map { Self.format($0.virtualSeconds, digits: 1) }
                ?? (targetAccuracy == nil ? "-" : "not reached")
            let version = reached.map { String($0.version) } ?? "-"
            let percent = { (value: Double?) in value.map { Self.format($0 * 100, digits: 2) + "%" } ?? "-" }
            lines.append(
                "| \(outcome.algorithm) | \(time) | \(version) | \(percent(outcome.finalAccuracy)) | "
                    + "\(percent(outcome.bestAccuracy)) | \(outcome.versions) | \(outcome.updatesApplied) | "
                    + "\(Self.format(outcome.virtualSeconds, digits: 1)) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Where the wall time went, per algorithm: training, evaluation and the simulator itself.
    package var costTable: String {
        var lines = [
            "| algorithm | wall (s) | training (s) | evaluation (s) | simulator overhead |",
            "|---|---:|---:|---:|---:|",
        ]
        for outcome in outcomes {
            lines.append(
                "| \(outcome.algorithm) | \(Self.format(outcome.wallSeconds, digits: 1)) | "
                    + "\(Self.format(outcome.trainingSeconds, digits: 1)) | \(Self.format(outcome.evaluationSeconds, digits: 1)) | "
                    + "\(Self.format(outcome.overheadFraction * 100, digits: 2))% |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Accuracy against virtual time, one line per algorithm.
    package func svg(title: String) -> String {
        var plot = SVGPlot(title: title, xLabel: "virtual time (s)", yLabel: "test accuracy")
        for outcome in outcomes {
            plot.addSeries(outcome.algorithm, points: outcome.points.map { ($0.virtualSeconds, $0.accuracy) })
        }
        if let targetAccuracy {
            plot.referenceLine = (targetAccuracy, "target \(Self.format(targetAccuracy * 100, digits: 1))%")
        }
        return plot.render()
    }

    /// Writes `results.csv`, `summary.md` and `accuracy.svg` into `directory`.
    package func write(to directory: URL, title: String, setup: String) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try csv.write(to: directory.appendingPathComponent("results.csv"), atomically: true, encoding: .utf8)
            let summary = "# \(title)\n\n\(setup)\n\n\(table)\nWall-clock cost:\n\n\(costTable)"
            try summary.write(to: directory.appendingPathComponent("summary.md"), atomically: true, encoding: .utf8)
            try svg(title: title).write(
                to: directory.appendingPathComponent("accuracy.svg"), atomically: true, encoding: .utf8)
        } catch {
            throw RuntimeError(.storage, "cannot write the results to \(directory.path): \(error.localizedDescription)")
        }
    }

    /// Fixed-point formatting independent of the locale.
    package static func format(_ value: Double, digits: Int) -> String {
        String(format: "%.\(digits)f", locale: Locale(identifier: "en_US_POSIX"), value)
    }
}
