/// An error raised by the privacy module: a machine-readable ``Code`` and a message that
/// says what was wrong and what would be accepted, so that a user can fix a configuration
/// without reading the source.
///
/// `Sendable`: a plain value.
package struct PrivacyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is.
    package enum Code: String, Sendable, Equatable {
        /// A parameter is outside its domain (negative clip norm, sampling rate above 1, ...).
        case invalidArgument
        /// A privacy configuration is inconsistent or unsafe; the message names the key.
        case invalidConfiguration
        /// A privacy target cannot be met by any noise level (epsilon below the conversion's floor).
        case unreachableTarget
        /// The operating system's random source could not be read.
        case randomSourceUnavailable
        /// Releasing more would spend more than the privacy budget (a target ε used as a limit).
        case budgetSpent
    }

    package var code: Code
    package var message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { "\(code.rawValue): \(message)" }
}
