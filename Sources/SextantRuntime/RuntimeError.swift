/// An error of the server or client runtime, with a code and a message a user can act on.
public struct RuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidConfiguration
        case dataUnavailable
        case protocolViolation
        case storage
        case rejected
        /// The peer speaks another protocol version.
        case incompatibleVersion
        /// A command-line value out of range (a negative index or version).
        case invalidArgument
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
