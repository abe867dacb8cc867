import SextantWire
import Synchronization

/// The server's way out: an ``OutboundGate`` in front of its socket, shared by the actor,
/// which sends, and the ``DurableWriter``'s thread, which says how far the writes are
/// durable and so releases what waited for them straight to the socket, without a hop
/// through the actor (docs/design.md 3).
///
/// `Sendable`: the gate and the socket are behind a mutex, which also keeps the messages in
/// the order they were sent.
final class GatedSender: Sendable {
    /// Where a message that may leave goes.
    typealias Sink = @Sendable ([OutboundFrame]) -> Void

    /// A struct, not a tuple: a closure kept in a tuple behind the generic mutex is
    /// reabstracted on every access, and each `withLock` then left it wrapped in two more
    /// thunks, so every message went through a chain as long as the run.
    private struct State {
        var gate = OutboundGate<[OutboundFrame]>()
        var sink: Sink?
    }

    private let state = Mutex(State())

    /// Where released messages go from now on (nil: nowhere, they are dropped).
    func attach(_ socket: SocketThread?) {
        guard let socket else { return attach(sink: nil) }
        attach(sink: { frames in socket.post(frames) })
    }

    /// Where released messages go from now on: `sink` is called in the order they were
    /// sent, under the sender's lock.
    func attach(sink: Sink?) {
        state.withLock { $0.sink = sink }
    }

    /// Sends `frames` once the writes through `ticket` are durable.
    func send(_ frames: [OutboundFrame], after ticket: UInt64) {
        state.withLock { state in
            for ready in state.gate.send(frames, after: ticket) { state.sink?(ready) }
        }
    }

    /// The writes through `ticket` are durable: what waited for them leaves, in order.
    func durable(through ticket: UInt64) {
        state.withLock { state in
            for ready in state.gate.durable(through: ticket) { state.sink?(ready) }
        }
    }

    /// A write failed: nothing that waits for it, or for a later one, may leave.
    func dropHeld() {
        state.withLock { _ = $0.gate.dropHeld() }
    }
}
