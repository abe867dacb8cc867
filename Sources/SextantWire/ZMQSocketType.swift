import CZeroMQ

/// The ZeroMQ socket patterns Sextant uses.
public enum ZMQSocketType: Sendable, CaseIterable {
    /// Server side: addresses each peer by its routing id (the first frame of a message).
    case router
    /// Client side: talks to one or more ROUTERs, no envelope.
    case dealer
    /// Exclusive pair, used over inproc to wake a socket thread.
    case pair
    case push
    case pull
    /// Reply socket: used by the CURVE ZAP handler.
    case rep

    var rawValue: Int32 {
        switch self {
        case .router: ZMQ_ROUTER
        case .dealer: ZMQ_DEALER
        case .pair: ZMQ_PAIR
        case .push: ZMQ_PUSH
        case .pull: ZMQ_PULL
        case .rep: ZMQ_REP
        }
    }
}
