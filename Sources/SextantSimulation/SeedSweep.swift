import Foundation
import SextantRuntime

/// The outcomes of one configuration simulated under several seeds (`sextant simulate
/// --seeds N`), summarised per algorithm as in docs/experiments.md: the median time to the
/// target over seeds with its order-statistic confidence interval (``MedianInterval``), for
/// the first crossing and for the robust time (the target held for ``held`` consecutive
/// evaluations, ``TimeToTarget``), and how many seeds reached it. `Sendable`: plain values.
package struct SeedSweep: Sendable {
    package var target: Double
    package var held: Int
    /// Every seed's outcomes, in seed order.
    package var runs: [(seed: UInt64, outcomes: [AlgorithmOutcome])]

    package init(target: Double, held: Int = 3, runs: [(seed: UInt64, outcomes: [AlgorithmOutcome])]) {
        self.target = target
        self.held = held
        self.runs = runs
    }

    /// The algorithms in the order of the first seed's run.
    package var algorithms: [String] { runs.first?.outcomes.map(\.algorithm) ?? [] }

    /// Per algorithm and seed: the first-crossing and robust times (nil: not reached).
    package func times(of algorithm: String) -> [(first: Double?, robust: Double?)] {
        runs.compactMap { run in
            run.outcomes.first { $0.algorithm == algorithm }.map {
                (
                    TimeToTarget.firstCrossing($0.points, target: target),
                    TimeToTarget.robust($0.points, target: target, held: held)
                )
            }
        }
    }

    /// One row per algorithm: the median time to the target over seeds, its interval and
    /// coverage, and the seeds that reached it, for the first crossing and the robust time.
    package var table: String {
        let percent = SimulationReport.format(target * 100, digits: 1) + "%"
        var lines = [
            "| algorithm | first crossing of \(percent): median (s) | interval (s) | seeds reaching | held \(held) evaluations: median (s) | interval (s) | seeds reaching |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for algorithm in algorithms {
            let times = times(of: algorithm)
            let first = MedianInterval(times.map(\.first))
            let robust = MedianInterval(times.map(\.robust))
            lines.append(
                "| \(algorithm) | \(Self.cells(first)) | \(Self.cells(robust)) |")
        }
        let coverage = MedianInterval([Double?](repeating: 0, count: runs.count)).coverage
        lines.append("")
        lines.append(
            "Intervals: order-statistic confidence intervals for the median over \(runs.count) seeds "
                + "(distribution-free; coverage \(SimulationReport.format(coverage * 100, digits: 1))%). "
                + "A seed that never reached the target counts as later than every time reached.")
        return lines.joined(separator: "\n") + "\n"
    }

    static func cells(_ interval: MedianInterval) -> String {
        let time = { (value: Double) in value.isFinite ? SimulationReport.format(value, digits: 1) : "not reached" }
        return "\(time(interval.median)) | [\(time(interval.lower)), \(time(interval.upper))] | "
            + "\(interval.reached)/\(interval.count)"
    }

    /// One row per seed and algorithm: `seed,algorithm,first_crossing,robust,final_accuracy,best_accuracy`.
    package var csv: String {
        var lines = ["seed,algorithm,first_crossing_seconds,robust_seconds,final_accuracy,best_accuracy"]
        for run in runs {
            for outcome in run.outcomes {
                let first = TimeToTarget.firstCrossing(outcome.points, target: target)
                let robust = TimeToTarget.robust(outcome.points, target: target, held: held)
                let cell = { (value: Double?) in value.map { SimulationReport.format($0, digits: 3) } ?? "" }
                lines.append(
                    "\(run.seed),\(outcome.algorithm),\(cell(first)),\(cell(robust)),"
                        + "\(cell(outcome.finalAccuracy)),\(cell(outcome.bestAccuracy))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes `seeds.csv` and `seeds.md` (the table under `title` and `setup`) into `directory`.
    package func write(to directory: URL, title: String, setup: String) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try csv.write(to: directory.appendingPathComponent("seeds.csv"), atomically: true, encoding: .utf8)
            try "# \(title)\n\n\(setup)\n\n\(table)".write(
                to: directory.appendingPathComponent("seeds.md"), atomically: true, encoding: .utf8)
        } catch {
            throw RuntimeError(.storage, "cannot write the results to \(directory.path): \(error.localizedDescription)")
        }
    }
}
