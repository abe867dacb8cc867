import Foundation
import SextantRuntime
import SextantWire

/// Who sent a message, and whether the server listens to it: the authenticated identity
/// (CURVE), the allow-list and the per-client rate limits.
extension FederationServer {
    /// The identity of a message's sender, or nil if the message must be dropped (the
    /// reason has been logged and, where useful, answered).
    func admit(_ frames: [ZMQFrame], routingID: [UInt8], peer: String) -> String? {
        let identity: String
        if curvePair != nil {
            // The name the allow-list gives the client's key: never a name the client chose.
            guard let user = frames[1].userID else {
                logger.error("a CURVE message without an authenticated identity", metadata: ["peer": "\(peer)"])
                return nil
            }
            guard allowList?.contains(name: user) == true else {
                refuseRemoved(user, routingID: routingID, peer: peer)
                return nil
            }
            identity = user
            clients[identity]?.routingID = routingID
        } else {
            identity = String(decoding: routingID, as: UTF8.self)
        }
        guard messageLimiter.allow(identity, now: now) else {
            metrics.rejected(.overloaded, isUpdate: Self.declaresUpdate(frames))
            noteRateLimited(identity, peer: peer, kind: "messages")
            return nil
        }
        return identity
    }

    /// Whether the server asked for `message`: an upload request or an update answering the
    /// task `name` holds, or the evaluation of a version it is waiting for from `name`. Such
    /// a message gives its rate-limit token back, so the limit bounds what a client sends
    /// unasked (a flood), never the pace of an honest federation, however small its model.
    func isSolicited(_ message: WireMessage, from name: String) -> Bool {
        switch message {
        case .uploadRequest(let request): core.task(of: name)?.version == Int(clamping: request.baseVersion)
        case .update(let update): core.task(of: name)?.version == Int(clamping: update.baseVersion)
        case .evaluation(let evaluation):
            evaluations[Int(clamping: evaluation.modelVersion)]?.waitingFor.contains(name) == true
        case .cohort(let cohort):
            if case .ready(let report) = cohort.content {
                core.task(of: name)?.version == Int(clamping: report.baseVersion)
            } else {
                secureCohorts?.open[cohort.cohort]?.members[name] != nil
            }
        default: false
        }
    }

    /// Whether a join from `identity` is within its rate; refuses it otherwise.
    func admitJoin(_ identity: String, routingID: [UInt8], peer: String) -> Bool {
        guard joinLimiter.allow(identity, now: now) else {
            noteRateLimited(identity, peer: peer, kind: "joins")
            reject(
                .overloaded, "too many joins: at most \(configuration.server.maxJoinsPerMinute) per minute",
                to: routingID, peer: peer)
            return false
        }
        return true
    }

    /// A client whose key left the allow-list (after a reload) is told so and dropped.
    private func refuseRemoved(_ identity: String, routingID: [UInt8], peer: String) {
        reject(.rejected, "this client's key is no longer on the server's allow-list", to: routingID, peer: peer)
        dropClient(identity)
    }

    /// Logs dropped messages at most once per client every 10 s, so a flood cannot flood the log.
    private func noteRateLimited(_ identity: String, peer: String, kind: String) {
        if let dropped = rateLimited.record(identity, now: now) {
            logger.warning(
                "client over its rate limit: dropping \(kind)",
                metadata: ["client": "\(identity)", "peer": "\(peer)", "dropped": "\(dropped)"])
        }
    }

    /// Reads the allow-list file again (SIGHUP). A bad file keeps the current list.
    package func reloadAllowList() {
        guard curvePair != nil, let path = configuration.security.allowedClients else {
            logger.notice("reload requested, but the server has no allow-list (security.allowed_clients)")
            return
        }
        let updated: AllowList
        do {
            updated = try AllowList(contentsOf: path)
        } catch {
            logger.error("allow-list not reloaded, keeping the current one: \(error.message)")
            return
        }
        let removed = (allowList?.identities ?? []).subtracting(updated.identities)
        allowList = updated
        authenticator?.replace(updated)
        logger.notice(
            "reloaded the allow-list", metadata: ["clients": "\(updated.count)", "removed": "\(removed.sorted())"])
        for identity in removed {
            guard let routingID = clients[identity]?.routingID else { continue }
            send(
                .error(ErrorReplyMessage(code: .rejected, text: "this client's key was removed from the allow-list")),
                to: routingID)
            logger.notice("dropped a client removed from the allow-list", metadata: ["client": "\(identity)"])
            dropClient(identity)
        }
    }
}

/// Counts rate-limited messages per client between warnings.
struct RateLimitReport {
    private var dropped: [String: (count: Int, lastWarning: Double)] = [:]

    /// Records one dropped message; returns the number dropped since the last warning when
    /// it is time for the next one (every 10 s per client).
    mutating func record(_ identity: String, now: Double) -> Int? {
        if dropped.count > 10_000 { dropped = dropped.filter { now - $0.value.lastWarning < 10 } }
        var entry = dropped[identity] ?? (0, -Double.infinity)
        entry.count += 1
        defer { dropped[identity] = entry }
        guard now - entry.lastWarning >= 10 else { return nil }
        let count = entry.count
        entry = (0, now)
        return count
    }
}
