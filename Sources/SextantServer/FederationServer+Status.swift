import Foundation
import SextantRuntime
import SextantScheduling
import SextantWire

extension FederationServer {
    /// A snapshot for `/status`: taken on the actor, so it is consistent, and returned as a
    /// value the HTTP side can encode while the server goes on.
    package func status() -> ServerStatus {
        let current = now
        let wallClock = Date()
        let compass = core.scheduler as? CompassScheduler
        let listed = clients.map { name, client in
            ServerStatus.Client(
                name: name, samples: client.samples, peer: client.peer,
                lastSeen: wallClock.addingTimeInterval(client.lastSeen - current),
                idleSeconds: max(0, current - client.lastSeen),
                secondsPerStep: compass?.estimatedSpeed(of: name), arrivalGroup: compass?.group(of: name),
                assignedSteps: client.assignedSteps)
        }
        var status = ServerStatus(
            runID: runID, status: finalStatus?.rawValue ?? "running", modelVersion: version,
            maxVersions: configuration.stop.maxVersions, accuracy: lastAccuracy, epsilon: lastEpsilon,
            scheduler: configuration.scheduler.kind, uptimeSeconds: current,
            clients: listed.sorted { $0.name < $1.name },
            guarantee: configuration.privacy.guaranteeDescription(configuration),
            federatedEvaluation: lastFederatedEvaluation)
        status.secureAggregation = secureCohorts.map {
            .init(
                cohortsCompleted: $0.completed, cohortsAbandoned: $0.abandoned, membersDropped: $0.droppedMembers,
                cohortsOpen: $0.open.count)
        }
        return status
    }

    /// Whether an undecodable message's header says it is an update, so that its rejection
    /// counts as a rejected update (a bad payload: wrong size, non-finite, norm too large).
    static func declaresUpdate(_ frames: [ZMQFrame]) -> Bool {
        guard frames.count >= 2, frames[1].count == WireHeader.byteCount else { return false }
        return (try? WireHeader(decoding: frames[1].bytes))?.type == .update
    }
}
