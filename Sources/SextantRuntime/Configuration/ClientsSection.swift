import Foundation
import SextantBase
import SextantML

/// `clients:` — the clients a local launch starts, and how they emulate heterogeneous silos.
package struct ClientsSection: Sendable, Codable {
    /// How many clients the data is partitioned for (and `sextant launch` starts).
    package var count = 4
    /// Mean seconds per local step to emulate (0: as fast as the machine goes).
    package var meanTimePerStep = 0.0
    /// How per-client speeds spread around the mean: fixed, normal or exponential (docs/design.md 5.3).
    package var speedDistribution = "normal"
    /// OpenBLAS threads per client (1 when many share a host).
    package var threads = 1
    /// Each site's own data file, `{index}` and `{name}` replaced by the client's (for
    /// `data.dataset` table or arrays; `sextant-client --data` overrides it).
    package var data: String?

    static let keys = KeySchema.map([
        "count": .value, "mean_time_per_step": .value, "speed_distribution": .value, "threads": .value,
        "data": .value,
    ])

    enum CodingKeys: String, CodingKey {
        case count, meanTimePerStep = "mean_time_per_step", speedDistribution = "speed_distribution", threads, data
    }

    /// Client `index`'s data file, named `name`; nil when `data` is unset.
    package func dataPath(index: Int, name: String) -> String? {
        data?.replacingOccurrences(of: "{index}", with: String(index)).replacingOccurrences(of: "{name}", with: name)
    }

    package init() {}
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        count = try c.decodeIfPresent(Int.self, forKey: .count) ?? count
        meanTimePerStep = try c.decodeIfPresent(Double.self, forKey: .meanTimePerStep) ?? meanTimePerStep
        speedDistribution = try c.decodeIfPresent(String.self, forKey: .speedDistribution) ?? speedDistribution
        threads = try c.decodeIfPresent(Int.self, forKey: .threads) ?? threads
        data = try c.decodeIfPresent(String.self, forKey: .data)
    }

    func validate() throws {
        guard count > 0 else { throw invalid("clients.count", count, "it must be a positive integer") }
        guard meanTimePerStep >= 0, meanTimePerStep.isFinite else {
            throw invalid("clients.mean_time_per_step", meanTimePerStep, "it must be >= 0 seconds")
        }
        guard SpeedModel.Distribution(rawValue: speedDistribution) != nil else {
            throw invalid("clients.speed_distribution", "'\(speedDistribution)'", "use fixed, normal or exponential")
        }
        guard threads > 0 else { throw invalid("clients.threads", threads, "it must be a positive integer") }
        if let data {
            let placeholders = data.split(separator: "{", omittingEmptySubsequences: false).dropFirst()
                .map { "{" + $0.prefix { $0 != "}" } + "}" }
            if let unknown = placeholders.first(where: { $0 != "{index}" && $0 != "{name}" }) {
                throw invalid("clients.data", "'\(data)'", "\(unknown) is no placeholder: use {index} or {name}")
            }
            guard !data.isEmpty else { throw invalid("clients.data", "''", "name a file, e.g. sites/{name}.csv") }
        }
    }

    /// The emulated speed of client `index`: a stream of its own, derived from the run's seed
    /// and the index, so that no two clients of any two seeds share one.
    package func speed(ofClient index: Int, seed: UInt64) -> SpeedModel {
        var stream = SeededGenerator(seed: seed ^ 0x5EED_5BEE_D000_0002).derived(UInt64(index))
        return SpeedModel(
            meanTimePerStep: meanTimePerStep,
            distribution: SpeedModel.Distribution(rawValue: speedDistribution) ?? .fixed,
            seed: stream.next())
    }
}

/// Emulated client slowness (docs/design.md 5.3): each client draws its own mean time per step
/// t_i around mu (normal with 30% deviation, kept positive, or exponential), and every task
/// jitters it by 5%.
package struct SpeedModel: Sendable {
    package enum Distribution: String, Sendable {
        case fixed, normal, exponential
    }

    /// This client's mean seconds per step (0: no emulation).
    package let timePerStep: Double
    private var generator: SeededGenerator

    package init(meanTimePerStep mu: Double, distribution: Distribution, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        switch distribution {
        case _ where mu <= 0:
            timePerStep = 0
        case .fixed:
            timePerStep = mu
        case .normal:
            // Redrawn until positive (at least 5% of the mean), as docs/design.md 5.3 keeps it.
            var t = generator.nextNormal(mean: mu, standardDeviation: 0.3 * mu)
            while t <= 0.05 * mu { t = generator.nextNormal(mean: mu, standardDeviation: 0.3 * mu) }
            timePerStep = t
        case .exponential:
            timePerStep = generator.nextExponential(mean: mu)
        }
        self.generator = generator
    }

    /// The emulated seconds per step for the next task.
    package mutating func nextTaskTimePerStep() -> Double {
        guard timePerStep > 0 else { return 0 }
        return max(0, generator.nextNormal(mean: timePerStep, standardDeviation: 0.05 * timePerStep))
    }
}
