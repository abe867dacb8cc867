import Foundation

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

extension RuntimeError {
    /// The executable `name` in `directory` (the package's build products), or an error that
    /// says to build the package first: what the launcher and the benchmarks that start
    /// Sextant's own processes check before they start one.
    package static func executable(_ name: String, in directory: URL) throws(RuntimeError) -> URL {
        let url = directory.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw RuntimeError(
                .invalidConfiguration, "\(url.path) not found: build the package first (swift build -c release)")
        }
        return url
    }
}
