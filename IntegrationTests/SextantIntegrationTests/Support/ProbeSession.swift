import Foundation
import SextantWire

/// One message a test peer sends to the server, and what it must answer.
struct Probe: Sendable {
    enum Expectation: Sendable, Equatable {
        /// An `ErrorReplyMessage` with this code.
        case error(ErrorReplyMessage.Code)
        /// Admission: a wait or an assignment, and no error.
        case admitted
    }

    var name: String
    var frames: [OutboundFrame]
    var expectation: Expectation
}

/// What came back for one probe: the first relevant reply, or nil after the timeout.
struct ProbeOutcome: Sendable {
    var probe: Probe
    var reply: WireMessage?
    /// Set when the server's reply itself could not be decoded.
    var undecodableReply: String?

    /// The error code received, if the reply was an error.
    var errorCode: ErrorReplyMessage.Code? {
        if case .error(let error) = reply { return error.code }
        return nil
    }

    var summary: String {
        if let undecodableReply { return "\(probe.name): undecodable reply (\(undecodableReply))" }
        guard let reply else { return "\(probe.name): no reply" }
        if case .error(let error) = reply { return "\(probe.name): error \(error.code): \(error.text)" }
        return "\(probe.name): \(reply.type)"
    }
}

/// A DEALER that sends probes one at a time and waits for each reply. Blocking libzmq calls,
/// so it runs on its own thread (``run(_:endpoint:routingID:)``), never on the cooperative pool.
enum ProbeSession {
    static func run(_ probes: [Probe], endpoint: String, routingID: String) async throws -> [ProbeOutcome] {
        try await onDedicatedThread {
            try runBlocking(probes, endpoint: endpoint, routingID: routingID)
        }
    }

    private static func runBlocking(_ probes: [Probe], endpoint: String, routingID: String) throws -> [ProbeOutcome] {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context: context, type: .dealer)
        defer { socket.close() }
        try socket.setOptions([
            .routingID(Array(routingID.utf8)), .linger(milliseconds: 1000), .sendTimeout(milliseconds: 5000),
        ])
        try socket.connect(to: endpoint)
        var outcomes: [ProbeOutcome] = []
        for probe in probes {
            try socket.send(probe.frames)
            outcomes.append(try awaitReply(to: probe, on: socket, timeoutMilliseconds: 10_000))
        }
        // Leave, so the scheduler does not wait for this peer in a round.
        try socket.send(WireCodec.encode(.bye(ByeMessage(reason: .shutdown, text: "probe session over"))))
        return outcomes
    }

    /// Skips the scheduler's waits and assignments while waiting for an error, and
    /// stops at the first error while waiting for admission.
    private static func awaitReply(to probe: Probe, on socket: ZMQSocket, timeoutMilliseconds: Int) throws
        -> ProbeOutcome
    {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
        while ContinuousClock.now < deadline {
            let events = try ZMQPoller.poll([(socket, .readable)], timeoutMilliseconds: 100)
            guard events.first?.contains(.readable) == true else { continue }
            let frames = try socket.receiveMessage(blocking: false)
            let message: WireMessage
            do {
                message = try WireCodec.decode(frames)
            } catch {
                return ProbeOutcome(probe: probe, reply: nil, undecodableReply: "\(error)")
            }
            switch (probe.expectation, message) {
            case (_, .error):
                return ProbeOutcome(probe: probe, reply: message)
            case (.admitted, .wait), (.admitted, .assignment):
                return ProbeOutcome(probe: probe, reply: message)
            default:
                continue
            }
        }
        return ProbeOutcome(probe: probe, reply: nil)
    }
}

/// Runs `body` on a new thread and resumes with its result.
func onDedicatedThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}

/// SplitMix64: seeded bytes, the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
