import SextantRuntime
import SextantWire

extension FederationServer {
    /// A message in another protocol version: the peer is told so in every reply (in its
    /// own version when it is older, so it can read it), and the log says so once per
    /// peer, not once per message (docs/design.md section 4).
    func refuseVersion(_ error: WireError, client: String, routingID: [UInt8], peer: String, isUpdate: Bool) {
        let theirs = error.peerVersion.map(String.init) ?? "another"
        let ours = WireCodec.protocolVersion
        let upgrade = (error.peerVersion ?? 0) > ours ? "the server" : "the client"
        let text = "client \(client) speaks protocol version \(theirs), this server speaks \(ours): upgrade \(upgrade)"
        if versionRefusals.first(client) {
            logger.warning(
                "rejected message",
                metadata: [
                    "peer": "\(peer)", "code": "\(ErrorReplyMessage.Code.unsupportedVersion)", "error": "\(text)",
                ])
        }
        let reply = ErrorReplyMessage(code: .unsupportedVersion, text: text)
        if let socket {
            let frames = [.bytes(routingID)] + WireCodec.encodeRefusal(reply, peerVersion: error.peerVersion ?? ours)
            metrics.sent(bytes: frames.reduce(0) { $0 + $1.byteCount })
            socket.post(frames)
        }
        metrics.rejected(.unsupportedVersion, isUpdate: isUpdate)
    }
}

/// The peers told that they speak another protocol version. Bounded: past 10,000 peers it
/// starts over, so a stream of new identities cannot grow it without end.
struct VersionRefusals {
    private var told: Set<String> = []

    /// Whether `client` is heard in another version for the first time.
    mutating func first(_ client: String) -> Bool {
        if told.count >= 10_000 { told.removeAll() }
        return told.insert(client).inserted
    }
}
