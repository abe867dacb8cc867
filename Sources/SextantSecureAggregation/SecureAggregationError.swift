/// An error of the secure aggregation protocol: a machine-readable ``Code`` and one line that
/// names the member, message or parameter that was wrong. A message that raises it changed
/// nothing in the state machine that refused it.
///
/// `Sendable`: a plain value.
package struct SecureAggregationError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Code: String, Sendable, Equatable {
        /// A parameter is outside its domain (threshold, ring bits, dimension, clip norm).
        case invalidConfiguration
        /// Bytes that do not decode: wrong magic, type, length or a value out of range.
        case malformedMessage
        /// A message names a member that is not part of this cohort or of this exchange.
        case unknownMember
        /// A member answered twice, or a message lists one member or share twice.
        case duplicate
        /// A message arrived at a stage that does not expect it.
        case wrongStage
        /// Fewer than the threshold remain where a secret must be kept or recovered.
        case tooFewMembers
        /// A request would reveal both shares of one member (its update would follow).
        case refusedReveal
        /// A ciphertext or a key agreement failed, or a recovered key does not match.
        case cryptographicFailure
    }

    package var code: Code
    package var message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { "\(code.rawValue): \(message)" }
}
