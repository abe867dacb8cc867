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
public struct SubjectGroundTruth: Sendable, Equatable, Codable {
    public static let currentFormat = "sextant-subject-federation/1"

    public struct Client: Sendable, Equatable, Codable {
        public var index: Int
        public var file: String
        public var records: Int
    }

    public struct Subject: Sendable, Equatable, Codable {
        public var id: Int32
        public var member: Bool
        public var silos: [Int]
        public var trainingRecords: Int
        public var auditSamples: Int
    }

    public var format = SubjectGroundTruth.currentFormat
    public var kind: String
    public var seed: UInt64
    public var featureShape: String
    public var classCount: Int
    public var auditSet: String
    public var clients: [Client]
    public var subjects: [Subject]

    /// Subject id to membership.
    public var membership: [Int32: Bool] {
        Dictionary(uniqueKeysWithValues: subjects.map { ($0.id, $0.member) })
    }

    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try encoder.encode(self).write(to: url, options: .atomic)
        } catch {
            throw AuditError(.invalidFile, "\(url.path): cannot write the ground truth (\(error.localizedDescription))")
        }
    }

    public static func read(from url: URL) throws -> SubjectGroundTruth {
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
