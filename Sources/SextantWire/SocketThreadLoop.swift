import Logging
import Synchronization

/// The body of a `SocketThread`'s OS thread: owns the socket, polls it together with the
/// wake-up pipe, delivers received messages and carries out queued commands.
struct SocketThreadLoop {
    private static let instanceCounter = Atomic<Int>(0)
    /// Messages read per wake-up before looking at the command queue, so a flood of
    /// inbound traffic cannot starve sends.
    private static let receiveBatch = 32
    /// Poll period while a send waits for room: ROUTER never reports "writable" per peer.
    private static let retryPollMilliseconds = 2

    private let core: SocketThreadCore
    private let configuration: SocketThread.Configuration
    private let logger: Logger
    private let socket: ZMQSocket
    private let wakeReceiver: ZMQSocket
    private let monitor: ZMQMonitor?
    private var handshakes = HandshakeWatcher()
    private let started = ContinuousClock.now
    /// Commands taken from the shared queue, in order; the first may be a send waiting
    /// for room since `blockedSince`.
    private var backlog: [(SocketCommand, SocketCompletion?)] = []
    private var backlogStart = 0
    private var blockedSince: ContinuousClock.Instant?

    /// Makes the sockets; returns the bound endpoints (with real ports) through `endpoints`.
    init(
        context: ZMQContext, core: SocketThreadCore, configuration: SocketThread.Configuration,
        logger: Logger, endpoints: inout [String]
    ) throws(WireError) {
        self.core = core
        self.configuration = configuration
        self.logger = logger

        let number = Self.instanceCounter.wrappingAdd(1, ordering: .relaxed).newValue
        let wakeEndpoint = "inproc://sextant-socket-thread-wake-\(number)"
        let receiver = try ZMQSocket(context: context, type: .pull)
        try receiver.setOptions([.linger(milliseconds: 0), .receiveHighWaterMark(0)])
        try receiver.bind(to: wakeEndpoint)

        let socket = try ZMQSocket(context: context, type: configuration.type)
        try socket.setOption(.linger(milliseconds: configuration.lingerMilliseconds))
        try socket.setOptions(configuration.options)
        monitor = configuration.logsRefusedHandshakes ? try ZMQMonitor(socket, name: "\(number)") : nil
        for endpoint in configuration.bindEndpoints {
            try socket.bind(to: endpoint)
            endpoints.append(socket.lastEndpoint ?? endpoint)
        }
        for endpoint in configuration.connectEndpoints {
            try socket.connect(to: endpoint)
        }
        self.socket = socket
        self.wakeReceiver = receiver
        // Made inside the lock so that the socket is handed to the shared state whole.
        try core.state.withLock { (state) throws(WireError) in
            let sender = try ZMQSocket(context: context, type: .push)
            try sender.setOptions([.linger(milliseconds: 0), .sendHighWaterMark(0)])
            try sender.connect(to: wakeEndpoint)
            state.wakeSender = sender
        }
    }

    mutating func run() {
        while !core.state.withLock({ $0.stopRequested }) {
            do {
                try iterate()
            } catch {
                if error.code != .closed {
                    logger.error("socket thread stops after an unexpected error", metadata: ["error": "\(error)"])
                }
                break
            }
        }
        // What was posted before the stop still goes out (a server posts its goodbyes and
        // stops at once); the stop may overtake the wake-up that would have sent it.
        takeCommands()
        try? runBacklog()
        finish()
    }

    private mutating func iterate() throws(WireError) {
        let paused = core.state.withLock { $0.undelivered >= core.receiveBufferLimit }
        let timeout = blockedSince == nil ? -1 : Self.retryPollMilliseconds
        var requests: [(socket: ZMQSocket, events: ZMQPollEvents)] = [
            (wakeReceiver, .readable), (socket, paused ? [] : .readable),
        ]
        if let monitor { requests.append((monitor.socket, .readable)) }
        let events = try ZMQPoller.poll(requests, timeoutMilliseconds: timeout)
        if events[0].contains(.readable) { drainWakeups() }
        if events[1].contains(.readable) { try receiveBatch() }
        if events.count > 2, events[2].contains(.readable) { readMonitorEvents() }
        takeCommands()
        try runBacklog()
    }

    private func drainWakeups() {
        while (try? wakeReceiver.receiveFrame(blocking: false)) != nil {}
    }

    private mutating func readMonitorEvents() {
        while let event = monitor?.next() {
            let now = (ContinuousClock.now - started) / .seconds(1)
            if let refusal = handshakes.observe(event, now: now) {
                var metadata: Logger.Metadata = ["peer": "\(refusal.peer)", "reason": "\(refusal.reason)"]
                if refusal.suppressed > 0 { metadata["more from this host"] = "\(refusal.suppressed)" }
                logger.warning("refused a connection", metadata: metadata)
            }
        }
    }

    private func receiveBatch() throws(WireError) {
        for _ in 0..<Self.receiveBatch {
            // The limit holds per message, not per poll: a batch stops at it.
            guard core.state.withLock({ $0.undelivered < core.receiveBufferLimit }) else { return }
            let frames: [ZMQFrame]
            do {
                frames = try socket.receiveMessage(blocking: false)
            } catch  where error.code == .wouldBlock {
                return
            }
            core.state.withLock { $0.undelivered += 1 }
            core.continuation.yield(frames)
        }
    }

    private mutating func takeCommands() {
        let taken = core.state.withLock { state in
            state.wakePending = false
            defer { state.commands.removeAll(keepingCapacity: true) }
            return state.commands
        }
        if backlogStart == backlog.count {
            backlog.removeAll(keepingCapacity: true)
            backlogStart = 0
        }
        backlog.append(contentsOf: taken)
    }

    /// Carries out commands in order; a send that finds no room stays first in line.
    private mutating func runBacklog() throws(WireError) {
        while backlogStart < backlog.count {
            let (command, completion) = backlog[backlogStart]
            let result = execute(command)
            // A ROUTER fails at once instead: waiting on one slow peer would hold up the
            // replies to every other peer queued behind it.
            if case .failure(let error) = result, error.code == .wouldBlock, configuration.type != .router {
                let now = ContinuousClock.now
                let since = blockedSince ?? now
                if since.duration(to: now) < configuration.sendTimeout {
                    blockedSince = since
                    return
                }
            }
            blockedSince = nil
            backlogStart += 1
            report(result, of: command, to: completion)
        }
    }

    private func execute(_ command: SocketCommand) -> Result<Void, WireError> {
        do throws(WireError) {
            switch command {
            case .send(let frames): try socket.send(frames, blocking: false)
            case .bind(let endpoint): try socket.bind(to: endpoint)
            case .unbind(let endpoint): try socket.unbind(from: endpoint)
            case .connect(let endpoint): try socket.connect(to: endpoint)
            case .disconnect(let endpoint): try socket.disconnect(from: endpoint)
            }
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    private func report(_ result: Result<Void, WireError>, of command: SocketCommand, to completion: SocketCompletion?)
    {
        if let completion {
            completion(result)
        } else if case .failure(let error) = result {
            // Fire-and-forget sends: e.g. a ROUTER reply to a client that has gone away.
            var metadata: Logger.Metadata = ["error": "\(error)"]
            if configuration.type == .router, case .send(let frames) = command, case .bytes(let id)? = frames.first {
                metadata["peer"] = "\(String(decoding: id, as: UTF8.self))"
            }
            logger.warning("dropped a message the socket could not send", metadata: metadata)
        }
    }

    /// Closes the sockets, fails whatever is still queued, ends the stream.
    private func finish() {
        monitor?.socket.close()
        socket.close()
        wakeReceiver.close()
        let (remaining, waiters) = core.state.withLock { state in
            state.exited = true
            state.wakeSender?.close()
            state.wakeSender = nil
            defer {
                state.commands.removeAll()
                state.exitWaiters.removeAll()
            }
            return (state.commands, state.exitWaiters)
        }
        let closed = WireError(.closed, "the socket thread shut down before this was carried out")
        for (_, completion) in backlog[backlogStart...] { completion?(.failure(closed)) }
        for (_, completion) in remaining { completion?(.failure(closed)) }
        core.continuation.finish()
        for waiter in waiters { waiter.resume() }
    }
}
