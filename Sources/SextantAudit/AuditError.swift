/// An error of the audit, with a code to match on and a message a user can act on. Sendable.
package struct AuditError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Code: String, Sendable {
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

    package var code: Code
    package var message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}
