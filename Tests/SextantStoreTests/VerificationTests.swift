import Foundation
import GRDB
import Testing

@testable import SextantStore

@Suite("verify()")
struct VerificationTests {
    /// A store with run-1 at versions 0...2, then `tamper` applied through a raw connection.
    private func verifyAfter(_ tamper: String) throws -> VerificationReport {
        try withTemporaryDirectory { directory in
            let store = try makeStore(in: directory)
            try store.startRun(
                id: "run-1", config: "", fingerprint: "f", initialParameters: vector(8, seed: 0))
            for version in 1...2 {
                try store.commitAggregation(
                    run: "run-1", version: version, parameters: vector(8, seed: Float(version)),
                    appliedUpdates: [])
            }
            // Bypass the store (and its CHECK constraints), as a damaged disk or an attacker would.
            try store.pool.write { db in
                try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
                try db.execute(sql: tamper)
                try db.execute(sql: "PRAGMA ignore_check_constraints = OFF")
            }
            return try store.verify()
        }
    }

    @Test func untouchedDatabaseIsOK() throws {
        let report = try verifyAfter("SELECT 1")
        #expect(report.isOK)
        #expect(report.checkpointsChecked == 3)
        #expect(report.description.hasPrefix("OK"))
    }

    @Test func tamperedBlobIsDetected() throws {
        // Same length, one different byte at the front.
        let report = try verifyAfter(
            """
            UPDATE checkpoints SET parameters = X'01' || substr(parameters, 2)
            WHERE run = 'run-1' AND version = 1
            """)
        #expect(!report.isOK)
        #expect(report.databaseProblems.isEmpty)
        #expect(report.checkpointProblems.map(\.version) == [1])
        #expect(report.checkpointProblems.first?.issues.first?.contains("SHA-256 mismatch") == true)
    }

    @Test func mismatchedCountIsDetected() throws {
        let report = try verifyAfter("UPDATE checkpoints SET count = 7 WHERE version = 2")
        #expect(report.checkpointProblems.map(\.version) == [2])
        #expect(report.checkpointProblems.first?.issues == ["count 7 needs 28 bytes, blob has 32"])
    }

    @Test func tamperedCheckpointIsNotExported() throws {
        try withTemporaryDirectory { directory in
            let store = try makeStore(in: directory)
            try store.startRun(
                id: "run-1", config: "", fingerprint: "f", initialParameters: vector(8, seed: 0))
            try store.pool.write { db in
                try db.execute(sql: "UPDATE checkpoints SET parameters = zeroblob(32)")
            }
            #expect {
                try store.export(run: "run-1", to: directory.appendingPathComponent("model.sxm"))
            } throws: { ($0 as? StoreError)?.code == .invalidData }
        }
    }
}
