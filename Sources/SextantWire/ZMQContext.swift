import CZeroMQ

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
        while zmq_ctx_term(handle) == -1 && zmq_errno() == EINTR {}
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
