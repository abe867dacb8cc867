import Synchronization

/// A request from any task to the socket's thread.
enum SocketCommand: Sendable {
    case send([OutboundFrame])
    case bind(String)
    case unbind(String)
    case connect(String)
    case disconnect(String)
}

/// Called once with the outcome of a command, on the socket's thread.
typealias SocketCompletion = @Sendable (Result<Void, WireError>) -> Void

/// The state shared by a `SocketThread` handle, its message iterators and its OS thread.
/// Every field is behind one `Mutex`; critical sections never block (the wake-up send is
/// non-blocking), so async callers may take the lock.
final class SocketThreadCore: Sendable {
    struct State {
        var commands: [(SocketCommand, SocketCompletion?)] = []
        /// Our end of the inproc wake-up pipe; libzmq sockets may change threads when a
        /// full memory barrier separates uses, which the lock provides.
        var wakeSender: ZMQSocket?
        var wakePending = false
        var stopRequested = false
        var exited = false
        var exitWaiters: [CheckedContinuation<Void, Never>] = []
        /// Messages yielded to the stream and not yet taken by the consumer.
        var undelivered = 0
    }

    let state = Mutex(State())
    let continuation: AsyncStream<[ZMQFrame]>.Continuation
    let receiveBufferLimit: Int

    init(continuation: AsyncStream<[ZMQFrame]>.Continuation, receiveBufferLimit: Int) {
        self.continuation = continuation
        self.receiveBufferLimit = max(1, receiveBufferLimit)
    }

    /// Queues a command for the thread, or fails it at once if the thread has stopped.
    func enqueue(_ command: SocketCommand, completion: SocketCompletion?) {
        let accepted = state.withLock { state in
            guard !state.stopRequested, !state.exited else { return false }
            state.commands.append((command, completion))
            Self.wake(&state)
            return true
        }
        if !accepted {
            completion?(.failure(WireError(.closed, "the socket thread has shut down")))
        }
    }

    func requestStop() {
        state.withLock { state in
            state.stopRequested = true
            Self.wake(&state)
        }
    }

    /// The consumer took a message: resume reading if the thread had paused.
    func didConsume() {
        state.withLock { state in
            state.undelivered -= 1
            if state.undelivered == receiveBufferLimit - 1 { Self.wake(&state) }
        }
    }

    func waitUntilExited() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let exited = state.withLock { state in
                if !state.exited { state.exitWaiters.append(waiter) }
                return state.exited
            }
            if exited { waiter.resume() }
        }
    }

    /// One wake-up message per batch of requests: the thread clears `wakePending` before
    /// it takes the queued commands, so nothing enqueued afterwards is missed.
    private static func wake(_ state: inout State) {
        guard !state.wakePending, let sender = state.wakeSender else { return }
        state.wakePending = true
        // Fails only if the pipe is full, in which case a wake-up is already waiting.
        try? sender.send([.bytes([])], blocking: false)
    }
}
