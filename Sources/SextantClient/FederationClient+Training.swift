import Foundation
import SextantBase
import SextantML
import SextantPrivacy
import SextantRuntime
import SextantWire

extension FederationClient {
    /// Steps trained between two looks at the socket.
    static let chunkSteps = 5

    /// Starts training `assignment` as the session's task `number`; the session has checked
    /// its hyper-parameters and dropped any unfinished task.
    func start(_ assignment: AssignmentMessage, as number: Int) throws {
        var steps = Int(assignment.localSteps)
        if let budget = recordStepBudget, let plan = settings.recordLevel {
            let remaining = budget - privateSteps
            guard remaining > 0 else {
                let target = plan.targetEpsilon ?? 0
                try apply(
                    .privacyBudgetSpent(
                        "\(plan.unit.rawValue)-level privacy budget spent: \(privateSteps) DP-SGD steps reach epsilon "
                            + String(format: "%.3f", recordEpsilon ?? 0)
                            + " of privacy.record_level.target_epsilon \(target) at delta \(plan.delta); one more "
                            + "step would exceed it, so this client stops training"))
                return
            }
            if remaining < steps {
                logger.notice(
                    "record-level budget: training fewer steps than assigned",
                    metadata: ["assigned": "\(steps)", "steps": "\(remaining)", "budget": "\(budget)"])
                steps = remaining
            }
        }
        cohort?.taskStarted()
        // The model is read where it was received: the assignment keeps its frame for the
        // delta (`finish`), so it is copied once, into the network.
        assignment.model.withUnsafeBufferPointer { network.loadParameters($0) }
        let optimizer = try TrainingHyperparameters.makeOptimizer(
            name: settings.optimizer, lr: Double(assignment.learningRate), momentum: settings.momentum,
            weightDecay: settings.weightDecay)
        let trainer: LocalTrainer
        if let plan = settings.recordLevel {
            trainer = .private(
                try PrivateTrainer(
                    network: network, dataset: data, optimizer: optimizer, clipNorm: plan.clipNorm,
                    noiseMultiplier: plan.noiseMultiplier,
                    sampling: plan.unit == .subject
                        ? .subjects(sampleRate: plan.sampleRate) : .records(expectedBatchSize: plan.expectedBatchSize),
                    stepsTaken: privateSteps))
        } else {
            trainer = .plain(
                try Trainer(
                    network: network, dataset: data, optimizer: optimizer, batchSize: Int(assignment.batchSize),
                    seed: settings.seed &+ assignment.modelVersion &* 7919 &+ UInt64(session.summary.tasks)))
        }
        task = LocalTask(
            number: number, assignment: assignment, trainer: trainer, steps: steps, startedAt: now,
            timePerStep: speed.nextTaskTimePerStep())
    }

    /// Milliseconds to wait for messages before the next chunk, or before the update of
    /// the last one: the emulated slowness (docs/design.md 5.3) is spent waiting on the
    /// socket, not sleeping blindly, so a goodbye or a new assignment that comes meanwhile
    /// is handled before the update is made.
    func trainChunkDelay() -> Int {
        guard let task, task.timePerStep > 0 else { return 0 }
        let target = task.startedAt + Double(task.stepsDone) * task.timePerStep
        return max(0, Int(((target - now) * 1000).rounded(.up)))
    }

    /// Trains the next few steps once their emulated time has come; once every step is
    /// trained and its time has passed, hands the session the update.
    func trainChunk() throws {
        guard var current = task else { return }
        if current.timePerStep > 0 && now < current.startedAt + Double(current.stepsDone) * current.timePerStep {
            return
        }
        guard !current.isTrained else {
            task = nil
            try finish(current)
            return
        }
        let steps = min(Self.chunkSteps, current.steps - current.stepsDone)
        let progress = current.trainer.train(steps: steps)
        current.stepsDone += steps
        current.progress.steps += progress.steps
        current.progress.examples += progress.examples
        current.progress.totalLoss += progress.totalLoss
        current.progress.correct += progress.correct
        task = current
    }

    private func finish(_ finished: LocalTask) throws {
        let local = UnsafeBufferPointer(network.parameters)
        var norm = 0.0
        var delta = [Float](unsafeUninitializedCapacity: local.count) { buffer, count in
            norm = finished.assignment.model.withUnsafeBufferPointer { base in
                VectorMath.difference(local, base, into: buffer)
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
                try apply(.trainingFailed(task: finished.number, reason: "could not privatize the update: \(error)"))
                return
            }
        }
        if case .private(let trainer) = finished.trainer, let plan = settings.recordLevel {
            privateSteps = trainer.stepsTaken
            recordEpsilon = try? trainer.epsilon(delta: plan.delta).epsilon
            // Kept before the update leaves: a restarted client goes on from this count.
            if let ledger = settings.privacyLedger {
                do {
                    try ClientPrivacyLedger(run: settings.runName, plan: plan, steps: privateSteps).write(to: ledger)
                } catch {
                    try apply(.trainingFailed(task: finished.number, reason: "\(error)"))
                    return
                }
            }
        }
        // Under secure aggregation the update leaves masked, in its cohort (docs/design.md 13).
        if cohort != nil { return try contribute(delta, of: finished) }
        // Under record-level DP the training loss is not private: send none.
        let loss = settings.recordLevel == nil ? finished.progress.meanLoss : 0
        // With client-side noise the server must learn nothing of the update but its noised
        // value: not its norm, whether it was clipped, or the training loss (docs/design.md 7).
        // The sample count of the join, step counts and timing still reach it.
        let addsNoise = privacy.noiseMultiplier > 0
        let update = UpdateMessage(
            updateID: nextSequence, baseVersion: finished.assignment.modelVersion,
            stepsDone: UInt32(finished.stepsDone),
            computeSeconds: now - finished.startedAt, sampleCount: UInt64(data.count), trainLoss: addsNoise ? 0 : loss,
            normBeforeClip: addsNoise ? 0 : norm, clipped: addsNoise ? false : clipped,
            delta: FloatPayload(delta))
        nextSequence += 1
        logger.info(
            "update ready",
            metadata: [
                "version": "\(finished.assignment.modelVersion)", "steps": "\(finished.stepsDone)",
                "loss": "\(String(format: "%.4f", finished.progress.meanLoss))",
                "seconds": "\(String(format: "%.2f", update.computeSeconds))",
                "\(settings.recordLevel?.unit.rawValue ?? "record")_epsilon":
                    "\(recordEpsilon.map { String(format: "%.3f", $0) } ?? "none")",
            ])
        try apply(.trained(task: finished.number, update))
    }
}
