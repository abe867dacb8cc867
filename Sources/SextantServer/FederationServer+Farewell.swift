import SextantRuntime
import SextantStore
import SextantWire

extension FederationServer {
    /// After the last version, the clients of the run that were not connected to hear the
    /// goodbye (they were reconnecting to a restarted server, say), and until when the
    /// server stays to tell them. Without it they would wait for this server forever.
    struct Farewell {
        var waitingFor: Set<String>
        var deadline: Double
    }

    /// Long enough for an idle client to notice the server, reconnect (at most 4 s apart)
    /// and send its next heartbeat or join (at most 8 s apart).
    static let farewellSeconds = 15.0

    /// Starts the farewell if some client of the run (as the database knows them) has not
    /// been told; returns whether it started.
    func beginFarewell() -> Bool {
        let known: [ClientRecord]
        do {
            known = try store.clients(run: runID)
        } catch {
            logger.error("could not list the run's clients to say goodbye: \(error)")
            return false
        }
        let away = Set(known.map(\.id)).subtracting(clients.keys)
        guard !away.isEmpty else { return false }
        farewell = Farewell(waitingFor: away, deadline: now + Self.farewellSeconds)
        logger.info(
            "telling clients that are away that the run is over",
            metadata: ["clients": "\(away.sorted().joined(separator: ","))", "seconds": "\(Self.farewellSeconds)"])
        timers["farewell"] = Task { [weak self] in
            try? await Task.sleep(for: .seconds(Self.farewellSeconds))
            await self?.endFarewell()
        }
        return true
    }

    /// Any message during the farewell is answered with the goodbye; the last client told ends it.
    func sayFarewell(to name: String, routingID: [UInt8]) {
        send(.bye(ByeMessage(reason: .done, text: "training finished")), to: routingID)
        guard farewell?.waitingFor.remove(name) != nil else { return }
        logger.info("told a returning client the run is over", metadata: ["client": "\(name)"])
        if farewell?.waitingFor.isEmpty == true { endFarewell() }
    }

    func endFarewell() {
        guard let farewell else { return }
        if !farewell.waitingFor.isEmpty {
            logger.warning(
                "clients never came back to hear the run is over",
                metadata: ["clients": "\(farewell.waitingFor.sorted().joined(separator: ","))"])
        }
        self.farewell = nil
        if let socket {
            Task { await socket.shutdown() }
        }
    }
}
