import Logging
import SextantRuntime
import SextantWire

/// The server's ROUTER socket as every phase of a run opens it: the same endpoint, limits,
/// heartbeats and, with CURVE, the ZAP handler that admits only the allow-list's keys.
struct ServerSocket {
    let context: ZMQContext
    let socket: SocketThread
    let authenticator: ZAPHandler?

    /// Binds `configuration.server.bind`; messages above `maxMessageSize` bytes disconnect
    /// their sender.
    static func open(
        configuration: FederationConfiguration, curve: (pair: CurveKeyPair, allowList: AllowList)?,
        maxMessageSize: Int64, logger: Logger
    ) async throws -> ServerSocket {
        let context = try ZMQContext()
        var options: [ZMQSocketOption] = [
            .routerMandatory(true), .routerHandover(true),
            .sendHighWaterMark(16), .receiveHighWaterMark(16),
            .maxMessageSize(maxMessageSize),
            .heartbeatInterval(milliseconds: 2000), .heartbeatTimeout(milliseconds: 10000),
        ]
        var authenticator: ZAPHandler?
        if let curve {
            // The handler must listen before the socket accepts: without one, libzmq
            // would admit any client that knows the server's package key.
            authenticator = try await ZAPHandler(context: context, allowList: curve.allowList, logger: logger)
            options += [.curveServer(true), .curveSecretKey(curve.pair.secretKey), .zapDomain("sextant")]
        }
        var socketConfiguration = SocketThread.Configuration(
            type: .router, options: options, bindEndpoints: [configuration.server.bind], name: "sextant-server")
        // Time for the last messages (hundreds of goodbyes) to leave a busy host after the
        // socket closes; the process exits as soon as they have.
        socketConfiguration.lingerMilliseconds = 5000
        socketConfiguration.logsRefusedHandshakes = curve != nil
        let socket = try await SocketThread(context: context, configuration: socketConfiguration, logger: logger)
        return ServerSocket(context: context, socket: socket, authenticator: authenticator)
    }

    /// The sender's name: the allow-list's name of its CURVE key, else its routing id.
    static func identity(of frames: [ZMQFrame], curve: Bool) -> String? {
        guard frames.count >= 2 else { return nil }
        if curve { return frames[1].userID }
        return String(decoding: frames[0].bytes, as: UTF8.self)
    }
}
