import Logging
import SextantML
import SextantWire

/// What the client tests run a `FederationClient` against: a ROUTER on a loopback port
/// that the test answers by hand, and eight records of four features.
enum ClientTestServer {
    static let logger = Logger(label: "sextant.tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A ROUTER bound to a free loopback port (its endpoint: `boundEndpoints.first`).
    static func makeRouter() async throws -> SocketThread {
        try await SocketThread(
            context: try ZMQContext(),
            configuration: .init(
                type: .router, options: [.routerMandatory(true)], bindEndpoints: ["tcp://127.0.0.1:*"],
                lingerMilliseconds: 0),
            logger: logger)
    }

    /// Eight records of four features in two classes.
    static let data = Dataset(
        shape: FeatureShape(channels: 4), classCount: 2, features: (0..<32).map { Float($0 % 5) / 5 },
        labels: (0..<8).map { Int32($0 % 2) })
}
