import Foundation
import SextantRuntime
import SextantWire

extension FederationClient {
    /// A cohort message from the server: an invitation, or a step of the protocol. A refused
    /// one is logged in one line; the client then has no part in that cohort, and its update
    /// of that task is not sent (the server counts it as dropped).
    func takePart(_ message: CohortMessage) {
        guard var participant = cohort else {
            logger.warning("ignored a secure aggregation message: this client's configuration does not use it")
            return
        }
        defer { cohort = participant }
        do {
            switch message.content {
            case .invitation(let invitation):
                let answer = try participant.invited(runID: message.runID, cohort: message.cohort, invitation)
                logger.info(
                    "secure aggregation cohort joined",
                    metadata: [
                        "cohort": "\(message.cohort)", "member": "\(invitation.member)",
                        "members": "\(invitation.members)", "threshold": "\(invitation.threshold)",
                        "version": "\(invitation.baseVersion)",
                    ])
                send(.cohort(answer))
            case .ready:
                logger.warning("ignored a secure aggregation ready claim: it is a client-to-server message")
            case .step(let body, _):
                if let answer = try participant.received(body, runID: message.runID, cohort: message.cohort) {
                    send(.cohort(answer))
                    if case .step(_, let report?) = answer.content { maskedInputSent(report) }
                }
            }
        } catch {
            logger.error("secure aggregation refused: \(error.message)")
        }
    }

    /// The task's update goes into its cohort: masked now if the neighbours' shares are
    /// here, else as soon as they arrive.
    func contribute(_ delta: [Float], of finished: LocalTask) throws {
        guard var participant = cohort else { return }
        let report = CohortMessage.Report(
            updateID: nextSequence, baseVersion: finished.assignment.modelVersion,
            stepsDone: UInt32(finished.stepsDone), computeSeconds: now - finished.startedAt,
            sampleCount: UInt64(data.count))
        nextSequence += 1
        do {
            let answer = try participant.trained(delta, report: report)
            cohort = participant
            if let answer {
                send(.cohort(answer))
                maskedInputSent(report)
            } else if participant.membership?.invitation.baseVersion != report.baseVersion {
                // No invitation yet: the server learns the update is ready (a Compass group's
                // cohort is formed from the members that said so, docs/design.md 13).
                send(.cohort(CohortMessage(runID: finished.assignment.runID, cohort: 0, content: .ready(report))))
                logger.info(
                    "update ready, waiting for its secure aggregation cohort",
                    metadata: ["version": "\(report.baseVersion)"])
            }
        } catch {
            cohort = participant
            logger.error("secure aggregation refused: \(error.message)")
        }
        try apply(.contributed(task: finished.number))
    }

    private func maskedInputSent(_ report: CohortMessage.Report) {
        logger.info(
            "masked input sent",
            metadata: [
                "version": "\(report.baseVersion)", "steps": "\(report.stepsDone)",
                "seconds": "\(String(format: "%.2f", report.computeSeconds))",
            ])
    }
}
