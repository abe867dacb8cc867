import Foundation
import SextantRuntime
import Synchronization

/// A serial executor that runs its jobs, in order, on one thread of its own. The server
/// actor uses it so that its synchronous work (an fsync'd write, a checkpoint's SHA-256,
/// a BLAS evaluation) blocks only this thread, never the cooperative pool that the
/// sockets' bridges, timers and the HTTP side share (docs/design.md 2).
///
/// `Sendable`: the queue is behind a mutex and a condition variable.
package final class ThreadExecutor: SerialExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var thread: Thread?

    /// Starts the thread, named `name` (as `top -H` and debuggers show it).
    package init(name: String) {
        // The thread holds the executor for the life of the process, as the server it serves.
        let thread = Thread { self.runLoop() }
        thread.name = name
        thread.stackSize = 8 << 20
        self.thread = thread
        thread.start()
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        condition.signal()
        condition.unlock()
    }

    package func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    private func runLoop() {
        var batch: [UnownedJob] = []
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            swap(&batch, &jobs)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedSerialExecutor()) }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
