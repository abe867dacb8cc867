import SextantRuntime
import SextantStore

extension FederationServer {
    /// Whether a failed write means the database cannot take writes at all (full, read-only,
    /// an I/O error): then no update can be acknowledged and no version committed, and
    /// serving on would only make clients wait, so the server stops. A busy lock or a
    /// rejected row concerns one write only and is not.
    static func isStorageFailure(_ error: any Error) -> Bool {
        guard let error = error as? StoreError else { return false }
        switch error.code {
        case .diskFull, .readOnly, .ioFailure, .cannotOpen, .corrupt, .fileReplaced: return true
        default: return false
        }
    }

    /// Stops the run as failed with one message that names the cause (read from the system,
    /// since SQLite calls a file-size limit a "disk I/O error") and what to do. The clients
    /// are not told to leave: as after a crash, they keep reconnecting, so a server started
    /// again once the cause is fixed resumes from the last committed version with them.
    func stopOnStorageFailure(while action: String, _ error: any Error, committed: Int) {
        let diagnosis = StorageDiagnosis(databasePath: configuration.server.database)
        logger.critical(
            "storage failed: could not \(action): \(error); \(diagnosis). Nothing unsaved was acknowledged. Remove the cause (free space, remount read-write, raise the file-size limit), then start the server again: it resumes from version \(committed)."
        )
        finish(.failed)
    }
}
