/// An error of the numeric core, with a code to match on and a message a user can act on.
package struct SextantMLError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Code: String, Sendable {
        case invalidArgument
        case fileNotFound
        case corruptData
        case unsupportedFormat
    }

    package var code: Code
    package var message: String

    package init(code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}
