import Foundation
import SextantStore
import SextantWire

extension FederationServer {
    /// An update trained on a version that was set aside as damaged when this server resumed
    /// (docs/design.md 10): it cannot be applied to the older model, so it is
    /// stored as discarded and acknowledged, and its client carries on with its next task
    /// instead of stopping at a refusal.
    func acknowledgeDiscarded(_ update: UpdateMessage, client: String, routingID: [UInt8]) {
        let submission = UpdateSubmission(
            run: runID, client: client, sequence: Int(truncatingIfNeeded: update.updateID),
            baseVersion: Int(update.baseVersion), steps: Int(update.stepsDone), computeSeconds: update.computeSeconds,
            samples: Int(clamping: update.sampleCount), normBefore: update.normBeforeClip, normAfter: nil, delta: nil)
        releaseUploadSlot(of: client)
        // Rare: written here, after everything handed to the writer, under an id of the store's choosing.
        flushWrites()
        do {
            if case .stored(let id) = try store.recordUpdate(submission) {
                nextUpdateID = max(nextUpdateID, id + 1)
                try store.discardUpdates(run: runID, ids: [id])
            }
        } catch {
            // Not stored, so not acknowledged: the client will send it again.
            send(
                .error(ErrorReplyMessage(code: .internal, text: "the server could not store the update")), to: routingID
            )
            if Self.isStorageFailure(error) {
                stopOnStorageFailure(while: "store an update of \(client)", error, committed: durableVersion)
            }
            return
        }
        logger.warning(
            "discarded an update trained on a version skipped as damaged",
            metadata: ["client": "\(client)", "update": "\(update.updateID)", "base": "\(update.baseVersion)"])
        send(.ack(AckMessage(updateID: update.updateID, acceptedVersion: UInt64(version))), to: routingID)
    }
}
