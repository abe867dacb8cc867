import ArgumentParser
import Foundation
import Logging
import SextantAudit
import SextantRuntime
import SextantStore
import Synchronization

/// `sextant-audit run`: both attacks over every checkpoint of a run, with the reports.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Audit a run's checkpoints for subject membership leakage.",
        discussion: """
            Exit status: 0 when the audit ran (and passed the gate), 2 when --fail-above-auc \
            is given and an attack's AUC exceeds it, 1 on errors.
            """)

    @Option(help: "The server's checkpoint database.") var db: String
    @Option(help: "Audit samples with subject ids (.csv with label and subject columns, or the binary .sxd).")
    var auditSet: String
    @Option(help: "Ground truth JSON (default: ground-truth.json next to the audit set).") var truth: String?
    @Option(help: "Subjects whose membership the attacker knows and calibrates on (half members).") var known = 10
    @Option(help: "Seed of the choice of known subjects.") var knownSeed: UInt64 = 0
    @Flag(help: "Evaluate only the latest checkpoint (skips the trajectory attack).") var finalOnly = false
    @Option(help: "Write the full report as JSON to this file.") var json: String?
    @Option(help: "Write a self-contained HTML report to this file.") var html: String?
    @Option(help: "Exit with status 2 when an attack's AUC exceeds this value.") var failAboveAuc: Double?
    @Option(name: .customLong("run"), help: "The run to audit (default: the latest run).") var runID: String?
    @Option(help: "Bootstrap resamples of the AUC interval.") var bootstrap = 1000
    @Option(help: "Seed of the bootstrap.") var seed: UInt64 = 0
    @Option(help: "Delta of the empirical epsilon lower bound.") var delta = 1e-5
    @Option(help: "Threads evaluating checkpoints (default: one per core).") var workers: Int?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "warning"

    func validate() throws {
        guard known >= 0 else { throw ValidationError("--known must not be negative") }
        guard bootstrap >= 1 else { throw ValidationError("--bootstrap must be at least 1") }
        guard delta >= 0, delta < 1 else { throw ValidationError("--delta must lie in [0, 1)") }
        if let failAboveAuc, !(0...1).contains(failAboveAuc) {
            throw ValidationError("--fail-above-auc must lie in [0, 1], not \(failAboveAuc)")
        }
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
    }

    func run() throws {
        try LogSetup.bootstrap(level: try LogSetup.level(named: logLevel))
        guard FileManager.default.fileExists(atPath: db) else {
            throw AuditError(.noCheckpoints, "checkpoint database \(db) does not exist")
        }
        let auditURL = URL(fileURLWithPath: auditSet)
        let truthURL =
            truth.map { URL(fileURLWithPath: $0) }
            ?? auditURL.deletingLastPathComponent().appendingPathComponent("ground-truth.json")
        let groundTruth = try SubjectGroundTruth.read(from: truthURL)
        let samples = try DatasetFile.read(from: auditURL)
        // Read-only: an audit never writes to the database it audits (docs/design.md 10).
        let store = try CheckpointStore(path: db, logger: Logger(label: "sextant.audit.store"), mode: .readOnly)

        var configuration = SubjectAudit.Configuration()
        configuration.knownSubjects = known
        configuration.knownSubjectSeed = knownSeed
        configuration.finalOnly = finalOnly
        if let workers { configuration.workers = workers }
        configuration.metrics.bootstrapResamples = bootstrap
        configuration.metrics.seed = seed
        configuration.metrics.delta = delta

        let bar = Mutex(ProgressBar(total: 1, label: "checkpoints"))
        let isTerminal = bar.withLock { $0.isTerminal }
        var report = try SubjectAudit(configuration: configuration).run(
            store: store, runID: runID, auditSet: samples, membership: groundTruth.membership,
            independentInclusion: groundTruth.isIndependentInclusion,
            progress: { done, total in
                bar.withLock { progress in
                    if progress.total != total { progress = ProgressBar(total: total, label: "checkpoints") }
                    progress.update(done, status: "\(done)/\(total)")
                }
            })
        if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        Self.stateGuarantee(of: &report)

        print(report.terminalSummary())
        if let json {
            try write(try report.jsonData(), to: json)
            print("JSON report: \(json)")
        }
        if let html {
            try write(Data(report.html().utf8), to: html)
            print("HTML report: \(html)")
        }
        if let failAboveAuc {
            let failing = report.attacks(withAUCAbove: failAboveAuc)
            if !failing.isEmpty {
                let names = failing.map { "\($0.attack.rawValue) AUC \(String(format: "%.3f", $0.metrics.auc))" }
                FileHandle.standardError.write(
                    Data("audit gate failed: \(names.joined(separator: ", ")) above \(failAboveAuc)\n".utf8))
                throw ExitCode(2)
            }
        }
    }

    /// What the run's epsilon protects (unit, adjacency, delta), from its stored
    /// configuration, so that the verdict compares like with like (docs/design.md 8).
    static func stateGuarantee(of report: inout AuditReport) {
        guard
            let configuration = try? ConfigurationLoader.decode(
                FederationConfiguration.self, from: report.run.config, name: "the run's configuration",
                allowedKeys: FederationConfiguration.keys)
        else { return }
        let privacy = configuration.privacy
        if privacy.secureAggregation.enabled {
            let secure = privacy.secureAggregation
            report.run.secureAggregation =
                "on: the server held each round's masked inputs and their sum, never one update (\(secure.bits)-bit ring, clip norm \(secure.clipNorm ?? 0), \(secure.graph.rawValue) graph)"
        }
        guard report.run.accountantEpsilon != nil else { return }
        report.run.accountantGuarantee = privacy.guaranteeDescription(configuration)
        if privacy.isClientLevel {
            report.run.accountantUnit = "client"
            report.run.accountantDelta = privacy.delta
        } else if privacy.isRecordLevel {
            report.run.accountantUnit = privacy.unit.rawValue
            report.run.accountantDelta = privacy.recordLevel?.delta ?? privacy.delta
        }
    }

    private func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw AuditError(.invalidFile, "\(path): cannot write the report (\(error.localizedDescription))")
        }
    }
}
