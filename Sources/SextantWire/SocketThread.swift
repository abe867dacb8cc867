import Foundation
import Logging

/// One ZeroMQ socket owned by a dedicated OS thread, bridged to async Swift.
///
/// Received multipart messages arrive in `messages` (a ROUTER's start with the sender's
/// routing id); `send` and `post` may be called from any task and never block the
/// cooperative pool: they queue the message and wake the thread through an inproc pipe.
///
/// `Sendable`: all shared state lives in `SocketThreadCore` behind a `Mutex`.
public final class SocketThread: Sendable {
    private let core: SocketThreadCore
    /// Received messages, in arrival order. Iterate from one task only.
    public let messages: Messages
    /// The bound endpoints with their actual ports (useful after binding to port 0 or *).
    public let boundEndpoints: [String]

    /// Messages received and not yet taken from ``messages``: never more than the
    /// configuration's `receiveBufferLimit`.
    package var bufferedMessages: Int { core.state.withLock { $0.undelivered } }

    /// Starts the thread, makes the socket, binds and connects it; throws if any of that
    /// fails (bad endpoint, address in use, bad option).
    public init(
        context: ZMQContext, configuration: Configuration, logger: Logger
    ) async throws(WireError) {
        let (stream, continuation) = AsyncStream<[ZMQFrame]>.makeStream()
        let core = SocketThreadCore(continuation: continuation, receiveBufferLimit: configuration.receiveBufferLimit)
        let started: Result<[String], WireError> = await withCheckedContinuation { ready in
            let thread = Thread {
                var endpoints: [String] = []
                var loop: SocketThreadLoop
                do throws(WireError) {
                    loop = try SocketThreadLoop(
                        context: context, core: core, configuration: configuration, logger: logger,
                        endpoints: &endpoints)
                } catch {
                    core.state.withLock { state in
                        state.exited = true
                        state.wakeSender = nil
                    }
                    continuation.finish()
                    ready.resume(returning: .failure(error))
                    return
                }
                ready.resume(returning: .success(endpoints))
                loop.run()
            }
            thread.name = configuration.name
            thread.start()
        }
        self.boundEndpoints = try started.get()
        self.core = core
        self.messages = Messages(stream: stream, core: core)
    }

    deinit { core.requestStop() }

    /// Sends one multipart message; returns once libzmq has queued it. Throws
    /// `hostUnreachable` for an unknown ROUTER peer (with `routerMandatory`), `wouldBlock`
    /// if there was no room within `sendTimeout`, `closed` after shutdown.
    public func send(_ frames: [OutboundFrame]) async throws(WireError) {
        try await perform(.send(frames))
    }

    /// Sends without waiting for the outcome; a failure is logged and the message dropped.
    public func post(_ frames: [OutboundFrame]) {
        core.enqueue(.send(frames), completion: nil)
    }

    public func bind(to endpoint: String) async throws(WireError) { try await perform(.bind(endpoint)) }
    public func unbind(from endpoint: String) async throws(WireError) { try await perform(.unbind(endpoint)) }
    public func connect(to endpoint: String) async throws(WireError) { try await perform(.connect(endpoint)) }
    public func disconnect(from endpoint: String) async throws(WireError) {
        try await perform(.disconnect(endpoint))
    }

    /// Stops the thread, closes the socket (unsent messages linger for the configured
    /// time in libzmq's I/O thread), fails queued requests, and ends `messages`.
    public func shutdown() async {
        core.requestStop()
        await core.waitUntilExited()
    }

    private func perform(_ command: SocketCommand) async throws(WireError) {
        let result = await withCheckedContinuation { (done: CheckedContinuation<Result<Void, WireError>, Never>) in
            core.enqueue(command) { done.resume(returning: $0) }
        }
        try result.get()
    }
}
