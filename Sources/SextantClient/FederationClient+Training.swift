import Foundation
import SextantML
import SextantRuntime
import SextantWire

extension FederationClient {
    /// Steps trained between two looks at the socket.
    static let chunkSteps = 5

    func start(_ assignment: AssignmentMessage) throws {
        guard assignment.localSteps > 0, assignment.batchSize > 0, assignment.learningRate.isFinite,
            assignment.learningRate > 0
        else {
            logger.warning("ignored an assignment with invalid hyper-parameters")
            return
        }
        let base = assignment.model.floats
        network.loadParameters(base)
        let optimizer = SGD(
            learningRate: assignment.learningRate, momentum: Float(settings.momentum),
            weightDecay: Float(settings.weightDecay))
        let trainer: LocalTrainer
        if let plan = settings.recordLevel {
            trainer = .private(
                try PrivateTrainer(
                    network: network, dataset: data, optimizer: optimizer, clipNorm: plan.clipNorm,
                    noiseMultiplier: plan.noiseMultiplier, expectedBatchSize: plan.expectedBatchSize,
                    stepsTaken: privateSteps))
        } else {
            trainer = .plain(
                try Trainer(
                    network: network, dataset: data, optimizer: optimizer, batchSize: Int(assignment.batchSize),
                    seed: settings.seed &+ assignment.modelVersion &* 7919 &+ UInt64(summary.tasks)))
        }
        if task != nil { logger.info("a new assignment replaces the unfinished one") }
        task = LocalTask(
            assignment: assignment, base: base, trainer: trainer, startedAt: now,
            timePerStep: speed.nextTaskTimePerStep())
        summary.lastVersion = Int(assignment.modelVersion)
        logger.info(
            "training", metadata: ["version": "\(assignment.modelVersion)", "steps": "\(assignment.localSteps)"])
    }

    /// Milliseconds to wait for messages before the next chunk: the emulated slowness
    /// (docs/design.md 5.3) is spent waiting on the socket, not sleeping blindly.
    func trainChunkDelay() -> Int {
        guard let task, task.timePerStep > 0 else { return 0 }
        let target = task.startedAt + Double(task.stepsDone) * task.timePerStep
        return max(0, Int(((target - now) * 1000).rounded(.up)))
    }

    /// Trains the next few steps; returns true when a message that came meanwhile ended
    /// the run (a goodbye during the last chunk's emulated time must not be lost).
    func trainChunk() throws -> Bool {
        guard var current = task else { return false }
        if current.timePerStep > 0 && now < current.startedAt + Double(current.stepsDone) * current.timePerStep {
            return false
        }
        let steps = min(Self.chunkSteps, Int(current.assignment.localSteps) - current.stepsDone)
        let progress = current.trainer.train(steps: steps)
        current.stepsDone += steps
        current.progress.steps += progress.steps
        current.progress.examples += progress.examples
        current.progress.totalLoss += progress.totalLoss
        current.progress.correct += progress.correct
        task = current
        guard current.stepsDone >= Int(current.assignment.localSteps) else { return false }
        // Emulated time for the last chunk.
        let remaining = trainChunkDelay()
        if remaining > 0, try receive(waitingMilliseconds: remaining) { return true }
        // A new assignment that came meanwhile replaced this task: don't send its update.
        guard task?.assignment.modelVersion == current.assignment.modelVersion, task?.startedAt == current.startedAt
        else {
            return false
        }
        finish(current)
        return false
    }

    private func finish(_ finished: LocalTask) {
        let local = network.parameters
        var norm = 0.0
        var delta = [Float](unsafeUninitializedCapacity: local.count) { buffer, count in
            for i in 0..<local.count {
                let d = local[i] - finished.base[i]
                buffer[i] = d
                norm += Double(d) * Double(d)
            }
            count = local.count
        }
        var clipped = false
        let privacy = ClientUpdatePrivacy(assignment: finished.assignment)
        if privacy.isActive {
            // Clip (and add this client's noise share) once: a resent update is the same noised delta.
            do {
                let outcome = try privacy.apply(to: &delta)
                clipped = outcome.clipped
            } catch {
                logger.error("could not privatize the update: \(error); dropping it")
                task = nil
                return
            }
        }
        if case .private(let trainer) = finished.trainer, let plan = settings.recordLevel {
            privateSteps = trainer.stepsTaken
            recordEpsilon = try? trainer.epsilon(delta: plan.delta).epsilon
        }
        // Under record-level DP the training loss is not private: send none.
        let loss = settings.recordLevel == nil ? finished.progress.meanLoss : 0
        // With client-side noise the server must learn nothing of the update but its noised
        // value: not its norm, whether it was clipped, or the training loss (docs/design.md 7).
        // The sample count of the join, step counts and timing still reach it.
        let addsNoise = privacy.noiseMultiplier > 0
        let update = UpdateMessage(
            updateID: nextSequence, baseVersion: finished.assignment.modelVersion, stepsDone: UInt32(finished.stepsDone),
            computeSeconds: now - finished.startedAt, sampleCount: UInt64(data.count), trainLoss: addsNoise ? 0 : loss,
            normBeforeClip: addsNoise ? 0 : norm.squareRoot(), clipped: addsNoise ? false : clipped,
            delta: FloatPayload(delta))
        nextSequence += 1
        task = nil
        summary.tasks += 1
        if let pending {
            logger.warning("update \(pending.message.updateID) was never acknowledged; replacing it with a newer one")
        }
        pending = Pending(message: update, sentAt: nil)
        requestUploadSlot()
        logger.info(
            "sent update",
            metadata: [
                "version": "\(finished.assignment.modelVersion)", "steps": "\(finished.stepsDone)",
                "loss": "\(String(format: "%.4f", finished.progress.meanLoss))",
                "seconds": "\(String(format: "%.2f", update.computeSeconds))",
                "record_epsilon": "\(recordEpsilon.map { String(format: "%.3f", $0) } ?? "none")",
            ])
    }
}
