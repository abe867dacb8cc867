import Logging
import SextantClient
import SextantML
import SextantRuntime
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

    /// Settings of a logreg client named `name` that connects to `server` and spends
    /// `timePerStep` seconds per local step.
    static func clientSettings(
        for server: SocketThread, name: String, timePerStep: Double = 0
    ) throws -> FederationClient.Settings {
        guard let endpoint = server.boundEndpoints.first else { throw WireError(.malformed, "the router is not bound") }
        return FederationClient.Settings(
            server: endpoint, name: name, model: ModelArchitecture.logreg.spec, momentum: 0, weightDecay: 0,
            speed: SpeedModel(meanTimePerStep: timePerStep, distribution: .fixed, seed: 1), seed: 1)
    }

    /// Parameters of the logreg model the client settings name, for the test data.
    static var parameterCount: Int {
        ModelArchitecture.logreg.makeNetwork(input: data.shape, classCount: data.classCount, seed: 1).parameterCount
    }

    /// Eight records of four features in two classes.
    static let data = Dataset(
        shape: FeatureShape(channels: 4), classCount: 2, features: (0..<32).map { Float($0 % 5) / 5 },
        labels: (0..<8).map { Int32($0 % 2) })
}
