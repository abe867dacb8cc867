import ArgumentParser
import SextantBenchmarks
import SextantClient
import SextantLauncher
import SextantRuntime
import SextantSimulation

/// `sextant privacy`: differential-privacy arithmetic for planning a run.
struct PrivacyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "privacy", abstract: "Differential-privacy arithmetic (RDP accountant, docs/design.md 7).",
        subcommands: [Epsilon.self])

    struct Epsilon: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print epsilon and the optimal Rényi order, or with --target-epsilon the noise multiplier.",
            discussion: """
                The sampled Gaussian mechanism with noise multiplier Z (noise std / L2 sensitivity) and \
                Poisson sampling rate Q, run T times, converted to (epsilon, delta) with the improved \
                conversion. Example: --noise 1.3 --sample-rate 0.0025 --steps 6000 --delta 1e-5. \
                Epsilon is (epsilon, delta)-DP for the unit --unit names (record, subject or client), \
                under the adjacency the output states (docs/design.md 7); --silos K composes the K \
                silos that hold one subject's records. With 0 steps or sample rate 0 nothing is \
                released and epsilon is 0.
                """)

        // `.unconditional`: `--noise -1` reaches the range check (and its one-line refusal)
        // instead of ArgumentParser reading `-1` as an unknown flag.
        @Option(parsing: .unconditional, help: "Noise multiplier z > 0 (give it or --target-epsilon).")
        var noise: Double?
        @Option(parsing: .unconditional, help: "The epsilon to calibrate the noise multiplier to (instead of --noise).")
        var targetEpsilon: Double?
        @Option(
            parsing: .unconditional, help: "Poisson sampling rate q in [0, 1] (1: every record or client every step).")
        var sampleRate: Double
        @Option(parsing: .unconditional, help: "Steps (DP-SGD steps or aggregation events), 0 or more.") var steps: Int
        @Option(parsing: .unconditional, help: "Delta in (0, 1), below 1/n for n protected units.") var delta: Double
        @Option(
            parsing: .unconditional,
            help: "Also print the group-privacy epsilon for subjects with this many records (--unit record).")
        var groupSize: Int?
        @Option(help: "What epsilon protects: record, subject or client (default: record).")
        var unit: String = PrivacyCalculator.Unit.record.rawValue
        @Option(
            parsing: .unconditional,
            help: "Silos that hold one subject's records, each running --steps (--unit subject).")
        var silos = 1

        func validate() throws {
            switch (noise, targetEpsilon) {
            case (nil, nil): throw ValidationError("give --noise or --target-epsilon")
            case (.some, .some): throw ValidationError("give --noise or --target-epsilon, not both")
            default: break
            }
        }

        /// Values out of range are refused by ``PrivacyCalculator`` with one line naming the option.
        func run() throws {
            guard let unit = PrivacyCalculator.Unit(rawValue: unit) else {
                throw RuntimeError(.invalidConfiguration, "--unit must be record, subject or client, got '\(unit)'")
            }
            let report =
                if let targetEpsilon {
                    try PrivacyCalculator.noiseMultiplier(
                        targetEpsilon: targetEpsilon, sampleRate: sampleRate, steps: steps, delta: delta,
                        groupSize: groupSize, unit: unit, silos: silos)
                } else {
                    try PrivacyCalculator.epsilon(
                        noise: noise ?? 0, sampleRate: sampleRate, steps: steps, delta: delta, groupSize: groupSize,
                        unit: unit, silos: silos)
                }
            report.lines.forEach { print($0) }
        }
    }
}
