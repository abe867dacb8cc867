import Foundation
import Logging
import SextantStore
import SextantTestSupport
import Testing

@testable import SextantAudit

/// The audit verifies each checkpoint it evaluates (docs/design.md, "Trust no claim"): a
/// checkpoint that fails its SHA-256 stops the audit with an error naming it, instead of
/// AUCs computed from a model nobody trained.
@Suite("Auditing a store with a damaged checkpoint")
struct DamagedCheckpointTests {
    /// Flips one byte inside the stored blob of `version` in the closed database file.
    static func damage(_ path: String, parameters: [Float]) throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let blob = ParameterBlob.encode(parameters).prefix(64)
        let found = try #require(bytes.range(of: blob), "the blob is not in the file")
        bytes[found.lowerBound + 10] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))
    }

    @Test("a damaged checkpoint is refused by name, in full and final-only audits")
    func damagedCheckpointIsRefused() throws {
        let federation = try EndToEndTests.makeFederation()
        let directory = try TemporaryDirectory(prefix: "sextant-audit-damaged")
        let path = directory.url(for: "checkpoints.sqlite").path
        let writer = try CheckpointStore(path: path, logger: Logger(label: "test"))
        try EndToEndTests.train(federation, into: writer)
        let final = try #require(try writer.checkpoint(run: "subjects", version: 8))
        try writer.close()
        try Self.damage(path, parameters: final.parameters)

        let store = try CheckpointStore(path: path, logger: Logger(label: "test"), mode: .readOnly)
        for finalOnly in [false, true] {
            var configuration = SubjectAudit.Configuration()
            configuration.knownSubjects = 10
            configuration.workers = 2
            configuration.metrics.bootstrapResamples = 50
            configuration.finalOnly = finalOnly
            let error = #expect(throws: AuditError.self) {
                try SubjectAudit(configuration: configuration).run(
                    store: store, auditSet: federation.auditSet, membership: federation.membership)
            }
            #expect(error?.message.contains("subjects@8") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("SHA-256") == true, "\(error?.message ?? "")")
        }
    }
}
