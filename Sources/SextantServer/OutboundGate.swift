/// Holds the server's outgoing messages until the writes handed to the ``DurableWriter``
/// before them are durable (docs/design.md 3): an ack never leaves before its update is
/// stored, an assignment of version `v` never before `v`'s checkpoint, and messages leave
/// in the order they were sent, as they would if every write were synchronous.
///
/// A pure state machine: each message comes with the ticket of the last write handed
/// over when it was sent (tickets only grow), and leaves once the writer is durable
/// through that ticket and every message before it has left. `Sendable` when `Message` is.
struct OutboundGate<Message> {
    private var held: [(ticket: UInt64, message: Message)] = []
    private var start = 0
    /// The writer is durable through this ticket.
    private(set) var durableThrough: UInt64 = 0

    /// Messages waiting for a write.
    var heldCount: Int { held.count - start }

    /// Sends `message` after the write with `ticket` (0: no write): returns what may leave now, in order.
    mutating func send(_ message: Message, after ticket: UInt64) -> [Message] {
        if heldCount == 0, ticket <= durableThrough { return [message] }
        held.append((ticket, message))
        return []
    }

    /// The writer is durable through `ticket`: returns the messages that may now leave, in order.
    mutating func durable(through ticket: UInt64) -> [Message] {
        durableThrough = max(durableThrough, ticket)
        var ready: [Message] = []
        while start < held.count, held[start].ticket <= durableThrough {
            ready.append(held[start].message)
            start += 1
        }
        if start == held.count {
            held.removeAll(keepingCapacity: true)
            start = 0
        }
        return ready
    }

    /// A write failed: nothing that waits for it, or for a later one, may leave. Returns how many were dropped.
    @discardableResult
    mutating func dropHeld() -> Int {
        let dropped = heldCount
        held.removeAll()
        start = 0
        return dropped
    }
}

extension OutboundGate: Sendable where Message: Sendable {}
