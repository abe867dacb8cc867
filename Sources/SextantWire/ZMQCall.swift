import CZeroMQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs a libzmq call that returns -1 and sets errno on failure, retrying on EINTR, and
/// turns a failure into a `WireError`. The one place where C error codes become Swift errors.
@discardableResult
func zmqCall(_ operation: @autoclosure () -> String, _ body: () -> Int32) throws(WireError) -> Int32 {
    while true {
        let result = body()
        if result != -1 { return result }
        let number = zmq_errno()
        if number == EINTR { continue }
        throw WireError(errno: number, operation: operation())
    }
}

extension WireError {
    /// Maps an errno from libzmq to a code; EAGAIN becomes `wouldBlock`.
    init(errno number: Int32, operation: String) {
        let text = String(cString: zmq_strerror(number))
        let code: Code =
            switch number {
            case EAGAIN: .wouldBlock
            case EHOSTUNREACH: .hostUnreachable
            case ETERM, ENOTSOCK, ENOTSUP: .closed
            case EINVAL, EPROTONOSUPPORT, ENOCOMPATPROTO, EADDRNOTAVAIL, ENODEV: .invalidArgument
            case EADDRINUSE: .addressInUse
            default: .system
            }
        self.init(code, "\(operation): \(text) (errno \(number))", errno: number)
    }
}
