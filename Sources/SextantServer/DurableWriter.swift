import Foundation
import Logging
import SextantStore
import SextantWire

/// The server's writes, on a thread of their own (docs/design.md 2 and 3). The server's
/// actor hands over what must become durable and goes on with its next event; this thread
/// makes it durable in the order it was handed over, updates that wait together in one
/// group commit (``CheckpointStore/recordUpdates(_:)``), and reports how far it got. The
/// actor lets no message leave before the writes handed over before it are durable
/// (``OutboundGate``), so an update is acknowledged only once stored while the next one is
/// already being received, checked and handed over.
///
/// At most `capacity` jobs wait: ``submit(_:)`` blocks past that, so a disk slower than the
/// network slows the server's thread rather than filling its memory.
///
/// `Sendable`: its queue and counters are behind a condition variable's lock.
final class DurableWriter: @unchecked Sendable {
    /// One piece of work.
    enum Job: Sendable {
        /// An update's row and its delta, read in place from the frame it arrived in.
        case update(id: Int64, submission: UpdateSubmission, delta: FloatPayload)
        /// Any other write, in its turn. `isCritical`: a failure leaves the server's state
        /// ahead of its database, so the writer stops and reports it (the run must stop);
        /// otherwise the failure is logged and the writer goes on.
        case write(action: String, isCritical: Bool, body: @Sendable (CheckpointStore) throws -> Void)
    }

    /// How far the writer got: every job up to `durableThrough` is done, and `failure` says
    /// which critical write failed, after which nothing more is written. Sendable.
    struct Report: Sendable {
        var durableThrough: UInt64
        var failure: Failure?
    }

    /// A critical write that failed. Sendable.
    struct Failure: Sendable {
        var action: String
        var error: any Error
    }

    private let store: CheckpointStore
    private let logger: Logger
    private let capacity: Int
    private let condition = NSCondition()
    private var queue: [(ticket: UInt64, job: Job)] = []
    private var submitted: UInt64 = 0
    /// Jobs through this ticket are done or skipped; through `durable`, done.
    private var finished: UInt64 = 0
    private var durable: UInt64 = 0
    private var failure: Failure?
    private var isStopping = false
    private var isRunning = true
    private let continuation: AsyncStream<Report>.Continuation
    /// Told on the writer's thread, after each job, how far the writes are durable.
    private let onDurable: @Sendable (UInt64) -> Void

    /// Every report, in order: the server's actor follows it to release held messages.
    let reports: AsyncStream<Report>

    /// Starts the writer's thread, named `name`; `onDurable` hears on that thread, after each
    /// job, the ticket through which every write is durable (the server's ``GatedSender``).
    init(
        store: CheckpointStore, logger: Logger, capacity: Int = 256, name: String = "sextant-writer",
        onDurable: @escaping @Sendable (UInt64) -> Void = { _ in }
    ) {
        self.store = store
        self.onDurable = onDurable
        self.logger = logger
        self.capacity = max(1, capacity)
        (reports, continuation) = AsyncStream.makeStream(of: Report.self, bufferingPolicy: .unbounded)
        let thread = Thread { [self] in runLoop() }
        thread.name = name
        thread.start()
    }

    /// Hands `job` over and returns its ticket (1, 2, ...); blocks while `capacity` jobs wait.
    @discardableResult
    func submit(_ job: Job) -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= capacity, isRunning { condition.wait() }
        submitted += 1
        queue.append((submitted, job))
        condition.broadcast()
        return submitted
    }

    /// The ticket of the last job handed over (0: none yet).
    var lastSubmitted: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return submitted
    }

    /// Blocks until every job handed over so far is done (or skipped after a failure) and
    /// returns how far the writer got.
    func drain() -> Report {
        condition.lock()
        defer { condition.unlock() }
        let target = submitted
        while finished < target, isRunning { condition.wait() }
        return Report(durableThrough: durable, failure: failure)
    }

    /// Finishes the jobs handed over, then ends the thread and the reports; returns once
    /// the thread is done with the store.
    func stop() {
        condition.lock()
        defer { condition.unlock() }
        isStopping = true
        condition.broadcast()
        while isRunning { condition.wait() }
    }

    private func runLoop() {
        while true {
            condition.lock()
            while queue.isEmpty, !isStopping { condition.wait() }
            if queue.isEmpty {
                isRunning = false
                condition.broadcast()
                condition.unlock()
                continuation.finish()
                return
            }
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            condition.broadcast()
            condition.unlock()
            perform(batch[...])
        }
    }

    /// Performs `batch` in order: each run of consecutive updates as one group commit, every
    /// other write on its own; reports after each.
    private func perform(_ batch: ArraySlice<(ticket: UInt64, job: Job)>) {
        var rest = batch
        while let first = rest.first {
            let hasFailed = condition.withLock { failure != nil }
            if hasFailed {
                // Nothing is written after a failed critical write: the database stays as it was.
                finish(through: rest.last!.ticket, failure: nil)
                return
            }
            switch first.job {
            case .update:
                let group = rest.prefix { if case .update = $0.job { true } else { false } }
                let failed = recordGroup(group)
                rest = rest.dropFirst(group.count)
                finish(through: group.last!.ticket, failure: failed)
            case .write(let action, let isCritical, let body):
                var failed: Failure?
                do {
                    try body(store)
                } catch {
                    if isCritical {
                        failed = Failure(action: action, error: error)
                    } else {
                        logger.error("could not \(action): \(error)")
                    }
                }
                rest = rest.dropFirst()
                finish(through: first.ticket, failure: failed)
            }
        }
    }

    /// Stores a run of updates in one group commit; returns the failure, if it failed.
    private func recordGroup(_ group: ArraySlice<(ticket: UInt64, job: Job)>) -> Failure? {
        var ids: [Int64] = []
        var submissions: [UpdateSubmission] = []
        var payloads: [FloatPayload] = []
        for item in group {
            guard case .update(let id, let submission, let delta) = item.job else { continue }
            ids.append(id)
            submissions.append(submission)
            payloads.append(delta)
        }
        let action = ids.count == 1 ? "store update \(ids[0])" : "store updates \(ids.first!)-\(ids.last!)"
        do {
            let outcomes = try Self.withBuffers(payloads[...]) { buffers in
                try store.recordUpdates(
                    ids.indices.map {
                        CheckpointStore.UpdateRecord(id: ids[$0], submission: submissions[$0], delta: buffers[$0])
                    })
            }
            for (id, outcome) in zip(ids, outcomes) where outcome.isDuplicate {
                // The server checks for retries before it hands an update over; this one slipped past.
                logger.error("update \(id) was stored already as update \(outcome.id)")
            }
            if ids.count > 1 { logger.trace("group commit", metadata: ["updates": "\(ids.count)"]) }
            return nil
        } catch {
            return Failure(action: action, error: error)
        }
    }

    /// Marks every job through `ticket` finished (durable unless a critical write failed,
    /// now or before), wakes ``drain()`` and reports.
    private func finish(through ticket: UInt64, failure failed: Failure?) {
        let report = condition.withLock {
            if let failed, failure == nil { failure = failed }
            finished = max(finished, ticket)
            if failure == nil { durable = finished }
            condition.broadcast()
            return Report(durableThrough: durable, failure: failure)
        }
        onDurable(report.durableThrough)
        continuation.yield(report)
    }

    /// Calls `body` with every payload's values read in place, valid only during the call.
    private static func withBuffers<Result>(
        _ payloads: ArraySlice<FloatPayload>, reading buffers: [UnsafeBufferPointer<Float>] = [],
        _ body: ([UnsafeBufferPointer<Float>]) throws -> Result
    ) throws -> Result {
        guard let first = payloads.first else { return try body(buffers) }
        return try first.withUnsafeBufferPointer { (buffer) throws in
            try withBuffers(payloads.dropFirst(), reading: buffers + [buffer], body)
        }
    }
}
