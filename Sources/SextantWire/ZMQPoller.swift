import CZeroMQ

/// Events to wait for, or that occurred, on a socket.
public struct ZMQPollEvents: OptionSet, Sendable, Hashable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    public static let readable = ZMQPollEvents(rawValue: Int16(ZMQ_POLLIN))
    public static let writable = ZMQPollEvents(rawValue: Int16(ZMQ_POLLOUT))
}

/// Waits for events on several sockets at once (`zmq_poll`).
public enum ZMQPoller {
    /// Blocks until one of the requested events occurs or `timeoutMilliseconds` passes
    /// (-1: no timeout), and returns the events that occurred, one entry per request.
    public static func poll(
        _ requests: [(socket: ZMQSocket, events: ZMQPollEvents)],
        timeoutMilliseconds: Int
    ) throws(WireError) -> [ZMQPollEvents] {
        var items = requests.map { request in
            zmq_pollitem_t(socket: request.socket.handle, fd: 0, events: request.events.rawValue, revents: 0)
        }
        try zmqCall("zmq_poll") { zmq_poll(&items, Int32(items.count), timeoutMilliseconds) }
        return items.map { ZMQPollEvents(rawValue: $0.revents) }
    }
}
