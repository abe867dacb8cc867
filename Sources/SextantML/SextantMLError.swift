/// An error of the numeric core, with a code to match on and a message a user can act on.
public struct SextantMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidArgument
        case fileNotFound
        case corruptData
        case unsupportedFormat
    }

    public var code: Code
    public var message: String

    public init(code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
