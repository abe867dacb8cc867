/// An error of the audit, with a code to match on and a message a user can act on. Sendable.
public struct AuditError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// An argument or option is outside what the audit accepts.
        case invalidArgument
        /// A file is missing, unreadable or not in the expected format.
        case invalidFile
        /// The checkpoint database has no usable run or checkpoints.
        case noCheckpoints
        /// The fingerprint does not describe a model this build can rebuild.
        case unknownModel
        /// The subjects do not allow the requested analysis (too few members or non-members).
        case insufficientSubjects
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
