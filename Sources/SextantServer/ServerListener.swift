import Foundation
import Logging
import SextantRuntime
import SextantWire

/// The server's bound ROUTER socket, with its context and (under CURVE) the ZAP handler
/// that must listen before the socket accepts anyone.
///
/// Made before the checkpoint database is opened: a bind that fails (address in use, a
/// host name libzmq does not bind, an unknown interface) stops the server before anything
/// is written to disk (docs/design.md 4). Sendable: its parts are.
struct ServerListener: Sendable {
    let context: ZMQContext
    let socket: SocketThread
    let authenticator: ZAPHandler?

    /// Binds `bind` with the server's socket options; `curve` makes it a CURVE server that
    /// asks `allowList` about every client key.
    static func bind(
        _ bind: String, maxMessageSize: Int64, curve: (pair: CurveKeyPair, allowList: AllowList)?, logger: Logger
    ) async throws -> ServerListener {
        let context: ZMQContext
        do {
            context = try ZMQContext()
        } catch {
            throw RuntimeError(.network, "could not start ZeroMQ: \(error)")
        }
        // No ZMTP heartbeats: libzmq 4.3.4 aborts (`!_io_error`) when one is due on a
        // connection whose peer hung up while its input waited for room in a full receive
        // queue, as after a flood (docs/design.md 4). The kernel finds dead links instead:
        // keepalive probes after 10 s idle, and unacknowledged data for 20 s, end them.
        var options: [ZMQSocketOption] = [
            .routerMandatory(true), .routerHandover(true),
            .sendHighWaterMark(16), .receiveHighWaterMark(16),
            .maxMessageSize(maxMessageSize),
            .tcpKeepalive(true), .tcpKeepaliveIdle(seconds: 10), .tcpKeepaliveInterval(seconds: 2),
            .tcpKeepaliveCount(5), .tcpMaxRetransmitTimeout(milliseconds: 20_000),
        ]
        var authenticator: ZAPHandler?
        if let curve {
            // The handler must listen before the socket accepts: without one, libzmq
            // would admit any client that knows the server's public key.
            authenticator = try await ZAPHandler(context: context, allowList: curve.allowList, logger: logger)
            options += [.curveServer(true), .curveSecretKey(curve.pair.secretKey), .zapDomain("sextant")]
        }
        var configuration = SocketThread.Configuration(
            type: .router, options: options, bindEndpoints: [bind], name: "sextant-server")
        // Time for the last messages (hundreds of goodbyes) to leave a busy host after the
        // socket closes; the process exits as soon as they have.
        configuration.lingerMilliseconds = 5000
        configuration.logsRefusedHandshakes = curve != nil
        do {
            let socket = try await SocketThread(context: context, configuration: configuration, logger: logger)
            return ServerListener(context: context, socket: socket, authenticator: authenticator)
        } catch {
            authenticator?.stop()
            throw RuntimeError(.network, "could not bind server.bind \(bind): \(Self.reason(error))")
        }
    }

    /// The sender's name: the allow-list's name of its CURVE key, else its routing id.
    static func identity(of frames: [ZMQFrame], curve: Bool) -> String? {
        guard frames.count >= 2 else { return nil }
        if curve { return frames[1].userID }
        return String(decoding: frames[0].bytes, as: UTF8.self)
    }

    /// libzmq's reason, with the fix for the usual ones.
    private static func reason(_ error: WireError) -> String {
        switch error.errno {
        case EADDRINUSE: "the address is in use (another server, or one still exiting, holds the port)"
        case ENODEV:
            "no interface or address of that name on this host (libzmq binds numeric addresses and interface names, not host names: use 127.0.0.1 for localhost)"
        case EADDRNOTAVAIL: "that address belongs to no interface of this host"
        case EACCES: "permission denied (ports below 1024 need privileges)"
        default: "\(error)"
        }
    }
}
