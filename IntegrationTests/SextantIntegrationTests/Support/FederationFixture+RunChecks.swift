import Foundation
import SextantStore
import Testing

extension FederationFixture {
    /// Waits for `server` and `clients` to end, then requires each to have exited 0, the
    /// clients having been told the run is done.
    func expectEveryProcessFinished(
        server: ManagedProcess, clients: [ManagedProcess], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        for process in clients + [server] {
            let ended = try await process.waitForExit(timeout: .seconds(180))
            try #require(ended, "\(process.name) did not finish\n\(diagnostics())", sourceLocation: sourceLocation)
        }
        #expect(server.exitedSuccessfully, "\(diagnostics())", sourceLocation: sourceLocation)
        for client in clients {
            #expect(
                client.exitedSuccessfully && client.standardOutput.contains(": done after"), "\(client.tail())",
                sourceLocation: sourceLocation)
        }
    }

    /// What every fault-injection test requires of a run once all its processes ended: one
    /// run, completed at `versions` with every version 0...N checkpointed, the store's own
    /// verification and `sextant checkpoints verify` passing, and no acknowledged update
    /// lost (``AcknowledgementAudit``). Returns the audit, for the test's summary line.
    @discardableResult
    func expectCompletedRun(
        versions: Int, clientLogs: [(client: String, text: String)], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> AcknowledgementAudit {
        let store = try openStore()
        let run = try #require(try store.latestRun(), sourceLocation: sourceLocation)
        #expect(try store.runs().count == 1, "a restart began a second run", sourceLocation: sourceLocation)
        #expect(run.status == .completed, "run status \(run.status)", sourceLocation: sourceLocation)
        #expect(
            try store.checkpointVersions(run: run.id) == Array(0...versions), "versions are not 0...\(versions)",
            sourceLocation: sourceLocation)
        let report = try store.verify()
        #expect(report.isOK, "\(report)", sourceLocation: sourceLocation)

        let verify = try start(
            "checkpoints-verify-\(UUID().uuidString.prefix(4))", executable: "sextant",
            arguments: ["checkpoints", "verify", databasePath])
        try #require(try await verify.waitForExit(timeout: .seconds(60)), sourceLocation: sourceLocation)
        #expect(verify.exitedSuccessfully, "\(verify.tail())", sourceLocation: sourceLocation)

        let updates = try store.updates(run: run.id)
        let audit = try AcknowledgementAudit(logs: clientLogs, updates: updates)
        #expect(audit.isLossless, "\(audit)", sourceLocation: sourceLocation)
        #expect(
            updates.allSatisfy { $0.state != .buffered }, "updates left buffered after completion",
            sourceLocation: sourceLocation)
        return audit
    }
}
