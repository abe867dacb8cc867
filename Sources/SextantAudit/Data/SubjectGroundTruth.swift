import Foundation

/// What a generated subject federation really is: which subjects are members, which silos
/// hold their records, and where its files are. Written as `ground-truth.json`; the
/// auditor reads it to score the attacks (and, for the K known subjects, to calibrate).
/// Sendable and Codable.
///
/// ```json
/// {
///   "format": "sextant-subject-federation/1",
///   "kind": "tabular",                      // or "fashion-mnist"
///   "seed": 7,
///   "featureShape": "20",                   // N, or CxHxW
///   "classCount": 4,
///   "auditSet": "audit.csv",                // relative to this file
///   "clients": [{"index": 0, "file": "client-000.csv", "records": 180}, ...],
///   "subjects": [{"id": 0, "member": true, "silos": [0, 2],
///                 "trainingRecords": 20, "auditSamples": 10}, ...]
/// }
/// ```
/// Non-members have no silos and no training records: none of their records is in any
/// client's partition. Every subject, member or not, has audit samples drawn from its own
/// distribution that no client trains on.
package struct SubjectGroundTruth: Sendable, Equatable, Codable {
    package static let currentFormat = "sextant-subject-federation/1"

    package struct Client: Sendable, Equatable, Codable {
        package var index: Int
        package var file: String
        package var records: Int
    }

    package struct Subject: Sendable, Equatable, Codable {
        package var id: Int32
        package var member: Bool
        package var silos: [Int]
        package var trainingRecords: Int
        package var auditSamples: Int
    }

    package var format = SubjectGroundTruth.currentFormat
    package var kind: String
    package var seed: UInt64
    /// "independent": every subject a member with probability 1/2, independently, decided
    /// before training (the one-run bound holds); "fixed" (or absent, in older files): a
    /// fixed number of members, for which the one-run bound does not hold.
    package var inclusion: String? = nil
    package var featureShape: String
    package var classCount: Int
    package var auditSet: String
    package var clients: [Client]
    package var subjects: [Subject]

    /// True when memberships were independent fair coins (``inclusion``).
    package var isIndependentInclusion: Bool { inclusion == "independent" }

    /// Subject id to membership.
    package var membership: [Int32: Bool] {
        Dictionary(uniqueKeysWithValues: subjects.map { ($0.id, $0.member) })
    }

    package func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try encoder.encode(self).write(to: url, options: .atomic)
        } catch {
            throw AuditError(.invalidFile, "\(url.path): cannot write the ground truth (\(error.localizedDescription))")
        }
    }

    package static func read(from url: URL) throws -> SubjectGroundTruth {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw AuditError(.invalidFile, "\(url.path): no such file or it cannot be read")
        }
        let truth: SubjectGroundTruth
        do {
            truth = try JSONDecoder().decode(SubjectGroundTruth.self, from: data)
        } catch {
            throw AuditError(.invalidFile, "\(url.path): not a subject ground-truth file (\(error))")
        }
        guard truth.format == currentFormat else {
            throw AuditError(.invalidFile, "\(url.path): format '\(truth.format)', expected '\(currentFormat)'")
        }
        guard Set(truth.subjects.map(\.id)).count == truth.subjects.count else {
            throw AuditError(.invalidFile, "\(url.path): a subject id appears twice")
        }
        return truth
    }
}
