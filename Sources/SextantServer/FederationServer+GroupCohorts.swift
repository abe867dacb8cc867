import Foundation
import Logging
import SextantAggregation
import SextantRuntime
import SextantScheduling
import SextantSecureAggregation
import SextantWire

/// Secure aggregation with Compass (docs/design.md 13): a member that finished training
/// announces its update (a `ready` claim, no values); the scheduler sees an ordinary
/// arrival; when it aggregates a group, the members it announced form one cohort, each
/// weighing its update by its coefficient in the aggregation, and the aggregation waits in
/// the core until the cohort's sum is decoded (or the cohort is abandoned).
extension FederationServer {
    /// Fewest members of a cohort: with 2, each would learn the other's update from the sum.
    static let minimumCohort = 3

    /// A member's `ready` claim, checked like an update's (its task, its version); under a
    /// round's cohort (FedAvg) it says only that the member waits for its invitation.
    func handleReady(_ report: CohortMessage.Report, client: ClientID, routingID: [UInt8], peer: String) {
        // Under a round's cohort the claim changes nothing; after the last version, neither.
        guard core.formsCohortsAtAggregation, !awaitingFinalEvaluation, finalStatus == nil else { return }
        let claim = UpdateInfo(
            id: nextUpdateID, client: client, baseVersion: Int(clamping: report.baseVersion),
            steps: Int(report.stepsDone), samples: Int(clamping: report.sampleCount))
        if let refusal = core.refusal(of: claim) {
            return reject(.unsolicited, refusal.message, to: routingID, peer: peer)
        }
        // The id is the masked input's row, once it is stored.
        nextUpdateID += 1
        secureCohorts?.announced[client] = .init(updateID: claim.id, report: report)
        perform { try core.updateAnnounced(claim, now: now) }
    }

    /// The scheduler aggregates: its announced members form one cohort. Fewer than
    /// ``minimumCohort`` reachable members, or a cohort that cannot open, end it at once as
    /// abandoned: the version advances with the model unchanged.
    func openGroupCohort(_ request: CohortRequest) {
        guard var state = secureCohorts else { return }
        var announced: [ClientID: SecureCohort.Announcement] = [:]
        var weights: [ClientID: Double] = [:]
        for member in request.members {
            guard let announcement = state.announced.removeValue(forKey: member.client),
                announcement.updateID == member.updateID, clients[member.client] != nil
            else { continue }
            announced[member.client] = announcement
            weights[member.client] = member.weight
        }
        secureCohorts = state
        let members = announced.keys.sorted()
        guard members.count >= Self.minimumCohort else {
            return endEmptyAggregation(
                request.newVersion,
                because:
                    "\(members.count) of its group's members announced an update and are reachable, a cohort needs \(Self.minimumCohort)"
            )
        }
        if !startCohort(members, version: request.newVersion, weights: weights, announced: announced) {
            endEmptyAggregation(request.newVersion, because: "its cohort could not open")
        }
    }

    /// An aggregation whose cohort could not be summed: the version advances with the model
    /// unchanged, so that the scheduler's view stays the model's; nothing is unmasked.
    func endEmptyAggregation(_ version: Int, because reason: String) {
        logger.warning(
            "secure aggregation: version \(version) keeps the model unchanged, its cohort is not summed",
            metadata: ["reason": "\(reason)"])
        endGroupCohort(version: version, sum: nil)
    }

    /// Hands the core a cohort's end (its sum, or nil: abandoned), then applies, one event
    /// at a time, every later aggregation whose cohort had ended already, so that each
    /// assignment leaves with the model of its own version.
    func endGroupCohort(version: Int, sum: [Float]?, survivors: Set<Int64> = []) {
        perform { try core.cohortEnded(version: version, sum: sum, survivors: survivors, now: now) }
        while core.hasEndedCohort, finalStatus == nil {
            perform { try core.applyEndedCohort(now: now) }
        }
    }

    /// Why a Compass member's masked input is refused: it must report the update it announced.
    func refusalOfMaskedInput(_ report: CohortMessage.Report, in cohort: SecureCohort, from client: ClientID)
        -> String?
    {
        guard let announcement = cohort.announced?[client] else { return nil }
        guard announcement.report.updateID == report.updateID, announcement.report.baseVersion == report.baseVersion,
            announcement.report.stepsDone == report.stepsDone, announcement.report.sampleCount == report.sampleCount
        else {
            return
                "a masked input must report the update announced (sequence \(announcement.report.updateID), version \(announcement.report.baseVersion))"
        }
        return nil
    }
}
