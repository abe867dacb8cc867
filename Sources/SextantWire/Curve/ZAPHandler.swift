import Foundation
import Logging
import Synchronization

/// The ZeroMQ authentication handler (ZAP, RFC 27) of a context: every CURVE handshake
/// on a socket of that context asks it whether the client's public key may connect, and
/// the name it answers becomes the `User-Id` of every message from that connection.
///
/// Without a handler, libzmq admits any client that knows the server's public key, so
/// the server starts this before it binds. The allow-list can be replaced while running.
/// `Sendable`: the REP socket lives on the handler's own thread; shared state is in a Mutex.
public final class ZAPHandler: Sendable {
    /// libzmq sends authentication requests to this address in the socket's context.
    static let endpoint = "inproc://zeromq.zap.01"

    struct State {
        var allowList: AllowList
        var admitted = 0
        var refused = 0
        var stopRequested = false
    }

    /// Shared with the handler's thread.
    final class Shared: Sendable {
        let state: Mutex<State>
        init(_ state: State) { self.state = Mutex(state) }
    }

    private let shared: Shared

    /// Binds the handler in `context` and starts its thread.
    public init(context: ZMQContext, allowList: AllowList, logger: Logger) async throws(WireError) {
        let shared = Shared(State(allowList: allowList))
        self.shared = shared
        let bound: Result<Void, WireError> = await withCheckedContinuation { ready in
            let thread = Thread {
                let socket: ZMQSocket
                do throws(WireError) {
                    socket = try ZMQSocket(context: context, type: .rep)
                    try socket.setOptions([.linger(milliseconds: 0), .receiveTimeout(milliseconds: 200)])
                    try socket.bind(to: Self.endpoint)
                } catch {
                    ready.resume(returning: .failure(error))
                    return
                }
                ready.resume(returning: .success(()))
                Self.serve(socket, shared: shared, logger: logger)
                socket.close()
            }
            thread.name = "sextant-zap"
            thread.start()
        }
        try bound.get()
    }

    deinit { stop() }

    /// Admits exactly the keys of `allowList` from now on (connections already
    /// authenticated stay open: the server checks identities on every message).
    public func replace(_ allowList: AllowList) {
        shared.state.withLock { $0.allowList = allowList }
    }

    public var allowList: AllowList { shared.state.withLock { $0.allowList } }

    /// Handshakes admitted and refused so far.
    public var decisions: (admitted: Int, refused: Int) { shared.state.withLock { ($0.admitted, $0.refused) } }

    /// Asks the thread to stop; it closes its socket within its 200 ms receive timeout.
    public func stop() {
        shared.state.withLock { $0.stopRequested = true }
    }

    private static func serve(_ socket: ZMQSocket, shared: Shared, logger: Logger) {
        while !shared.state.withLock({ $0.stopRequested }) {
            let request: [ZMQFrame]
            do {
                request = try socket.receiveMessage()
            } catch  where error.code == .wouldBlock {
                continue
            } catch {
                if error.code != .closed { logger.error("authentication handler stops: \(error)") }
                return
            }
            let reply = decide(request.map(\.bytes), shared: shared, logger: logger)
            do {
                try socket.send(reply.map { OutboundFrame.bytes($0) })
            } catch {
                logger.error("authentication handler could not reply: \(error)")
            }
        }
    }

    /// Answers one ZAP request: version, request id, domain, address, routing id,
    /// mechanism, then the mechanism's credentials (CURVE: the client's 32-byte public key).
    static func decide(_ frames: [[UInt8]], shared: Shared, logger: Logger) -> [[UInt8]] {
        func reply(_ status: String, _ text: String, user: String = "") -> [[UInt8]] {
            [
                Array("1.0".utf8), frames.count > 1 ? frames[1] : [], Array(status.utf8), Array(text.utf8),
                Array(user.utf8), [],
            ]
        }
        guard frames.count >= 6, frames[0] == Array("1.0".utf8) else {
            return reply("500", "malformed authentication request")
        }
        let address = String(decoding: frames[3], as: UTF8.self)
        let mechanism = String(decoding: frames[5], as: UTF8.self)
        guard mechanism == "CURVE", frames.count >= 7, let key = try? CurveKey(bytes: frames[6]) else {
            shared.state.withLock { $0.refused += 1 }
            logger.warning(
                "refused a connection without CURVE", metadata: ["peer": "\(address)", "mechanism": "\(mechanism)"])
            return reply("400", "CURVE required")
        }
        guard
            let name = shared.state.withLock({ state -> String? in
                let name = state.allowList.name(of: key)
                if name == nil { state.refused += 1 } else { state.admitted += 1 }
                return name
            })
        else {
            logger.warning(
                "refused a client key that is not on the allow-list",
                metadata: ["peer": "\(address)", "key": "\(key.z85)"])
            return reply("400", "key not on the allow-list")
        }
        logger.debug("admitted a client key", metadata: ["peer": "\(address)", "client": "\(name)"])
        return reply("200", "OK", user: name)
    }
}
