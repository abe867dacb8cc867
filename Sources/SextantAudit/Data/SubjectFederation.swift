import Foundation
import SextantML

/// A federation with subject-level structure, in memory: each client's training
/// partition (records tagged with their subject), the auditor's held-out samples and the
/// ground truth. Made by ``SubjectFederationGenerator``. Sendable.
package struct SubjectFederation: Sendable {
    package var kind: String
    package var seed: UInt64
    /// Client i's training records; `subjects` is set on every partition.
    package var clients: [Dataset]
    /// Samples of every subject's distribution that no client trains on.
    package var auditSet: Dataset
    /// Subject id to membership (true: some of its records are in the clients' data).
    package var membership: [Int32: Bool]
    /// Memberships are independent fair coins drawn before training (the one-run bound's premise).
    package var independentInclusion = false

    /// The members' records of all clients together (for centralized baselines and tests).
    package var pooledTrainingSet: Dataset {
        let first = clients[0]
        return Dataset(
            shape: first.shape, classCount: first.classCount,
            features: clients.flatMap(\.features), labels: clients.flatMap(\.labels),
            subjects: clients.flatMap { $0.subjects ?? [] })
    }

    /// The ground truth, naming the files ``write(to:)`` creates.
    package var groundTruth: SubjectGroundTruth {
        let fileExtension = kind == "tabular" ? "csv" : "sxd"
        var silos: [Int32: Set<Int>] = [:]
        var records: [Int32: Int] = [:]
        for (index, client) in clients.enumerated() {
            for subject in client.subjects ?? [] {
                silos[subject, default: []].insert(index)
                records[subject, default: 0] += 1
            }
        }
        var auditCounts: [Int32: Int] = [:]
        for subject in auditSet.subjects ?? [] { auditCounts[subject, default: 0] += 1 }
        return SubjectGroundTruth(
            kind: kind, seed: seed, inclusion: independentInclusion ? "independent" : "fixed",
            featureShape: auditSet.shape.description,
            classCount: auditSet.classCount, auditSet: "audit.\(fileExtension)",
            clients: clients.enumerated().map { index, client in
                .init(index: index, file: Self.clientFileName(index, fileExtension), records: client.count)
            },
            subjects: membership.keys.sorted().map { id in
                .init(
                    id: id, member: membership[id]!, silos: (silos[id] ?? []).sorted(),
                    trainingRecords: records[id] ?? 0, auditSamples: auditCounts[id] ?? 0)
            })
    }

    static func clientFileName(_ index: Int, _ fileExtension: String) -> String {
        "client-\(String(format: "%03d", index)).\(fileExtension)"
    }

    /// Writes `client-NNN.csv|sxd`, `audit.csv|sxd` and `ground-truth.json` into
    /// `directory` (created if needed) and returns the ground truth. Tabular federations
    /// are written as CSV, image ones in the binary ``DatasetFile`` format.
    @discardableResult
    package func write(to directory: URL) throws -> SubjectGroundTruth {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw AuditError(
                .invalidFile, "\(directory.path): cannot create the directory (\(error.localizedDescription))")
        }
        let truth = groundTruth
        for (entry, client) in zip(truth.clients, clients) {
            try DatasetFile.write(client, to: directory.appendingPathComponent(entry.file))
        }
        try DatasetFile.write(auditSet, to: directory.appendingPathComponent(truth.auditSet))
        try truth.write(to: directory.appendingPathComponent("ground-truth.json"))
        return truth
    }
}
