import CZeroMQ
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A libzmq context: owns the I/O threads that move bytes for every socket made from it.
///
/// `Sendable`: libzmq contexts are thread-safe. Sockets keep their context alive, so the
/// context is terminated (in `deinit`) only after every socket is closed.
public final class ZMQContext: Sendable {
    // Immutable after init, and libzmq allows any thread to use a context.
    nonisolated(unsafe) let handle: UnsafeMutableRawPointer
    /// Set once zmq_ctx_term has been called, by ``terminate(timeout:)`` or `deinit`.
    private let terminated = Atomic<Bool>(false)

    /// Creates a context with `ioThreads` background I/O threads (libzmq's default is 1;
    /// one thread moves roughly a gigabyte per second, so a busy server may want 2).
    public init(ioThreads: Int = 1) throws(WireError) {
        guard let handle = zmq_ctx_new() else {
            throw WireError(.system, "zmq_ctx_new failed")
        }
        self.handle = handle
        try zmqCall("zmq_ctx_set(ZMQ_IO_THREADS)") {
            zmq_ctx_set(handle, ZMQ_IO_THREADS, Int32(clamping: ioThreads))
        }
    }

    /// Makes every blocking call on this context's sockets return `closed` (ETERM).
    /// Safe to call from any thread, and more than once.
    public func shutdown() {
        _ = zmq_ctx_shutdown(handle)
    }

    deinit {
        // Sockets retain the context, so none is open here and this does not block.
        guard terminated.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        while zmq_ctx_term(handle) == -1 && zmq_errno() == EINTR {}
    }

    /// Terminates the context once its sockets are closed, waiting up to `timeout` for the
    /// messages they queued last to leave (within each socket's linger time). libzmq sends
    /// from its own I/O thread, so a process that exits right after closing a socket can
    /// lose them: a server's goodbyes were lost that way, leaving clients waiting forever.
    /// zmq_ctx_term blocks, so it runs on a thread of its own. Returns whether it finished
    /// in time (a socket still open keeps it waiting; the process may then exit anyway).
    @discardableResult
    public func terminate(timeout: Duration) async -> Bool {
        guard terminated.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else {
            return true
        }
        let outcome = OneShot()
        return await withCheckedContinuation { continuation in
            outcome.arm(continuation)
            // The thread keeps the context alive until zmq_ctx_term returns.
            let thread = Thread { [self] in
                while zmq_ctx_term(handle) == -1 && zmq_errno() == EINTR {}
                outcome.resume(returning: true)
            }
            thread.name = "zmq-terminate"
            thread.start()
            let milliseconds = Int((timeout / .milliseconds(1)).rounded(.up))
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(milliseconds)) {
                outcome.resume(returning: false)
            }
        }
    }

    /// A continuation resumed by whichever comes first, the termination or the timeout.
    private final class OneShot: Sendable {
        private let continuation = Mutex<CheckedContinuation<Bool, Never>?>(nil)

        func arm(_ continuation: CheckedContinuation<Bool, Never>) {
            self.continuation.withLock { $0 = continuation }
        }

        func resume(returning value: Bool) {
            continuation.withLock { $0.take() }?.resume(returning: value)
        }
    }

    /// The version of the libzmq library linked in, e.g. "4.3.4".
    public static var libraryVersion: String {
        var major: Int32 = 0
        var minor: Int32 = 0
        var patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }
}
