/// An error of the server or client runtime, with a code and a message a user can act on.
package struct RuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Code: String, Sendable {
        case invalidConfiguration
        case dataUnavailable
        case protocolViolation
        case storage
        case rejected
        /// The peer speaks another protocol version.
        case incompatibleVersion
        /// A command-line value out of range (a negative index or version).
        case invalidArgument
        /// Stopped on request (SIGTERM, SIGINT) before the work was done.
        case interrupted
        /// A socket could not be bound or reached (address in use, unknown interface).
        case network
    }

    package var code: Code
    package var message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}
