/// The clients an asynchronous baseline knows: their sample counts (kept after they leave,
/// so that weights do not jump when one disconnects) and whether they are connected.
/// Training starts once `minimumClients` are connected; until then joiners wait.
struct ClientRoster: Codable, Equatable, Sendable {
    var samples: [ClientID: Int] = [:]
    var connected: Set<ClientID> = []
    var isStarted = false

    enum CodingKeys: String, CodingKey { case samples, connected, isStarted }

    init() {}

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        samples = try c.decode([ClientID: Int].self, forKey: .samples)
        connected = Set(try c.decode([ClientID].self, forKey: .connected))
        isStarted = try c.decode(Bool.self, forKey: .isStarted)
    }

    /// Sorted, so that equal states give equal snapshots in every process.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(samples, forKey: .samples)
        try c.encode(connected.sorted(), forKey: .connected)
        try c.encode(isStarted, forKey: .isStarted)
    }

    /// Records a join; returns the clients to give a task now (sorted), or nil to make the joiner wait.
    mutating func join(_ client: ClientID, samples count: Int, minimumClients: Int) -> [ClientID]? {
        samples[client] = count
        connected.insert(client)
        if isStarted { return [client] }
        guard connected.count >= minimumClients else { return nil }
        isStarted = true
        return connected.sorted()
    }

    /// Records an arrival from `client` (an unknown client is admitted with the update's sample count).
    mutating func arrived(_ update: UpdateInfo) {
        if samples[update.client] == nil { samples[update.client] = update.samples }
        connected.insert(update.client)
        isStarted = true
    }

    mutating func lose(_ client: ClientID) {
        connected.remove(client)
    }

    func share(of client: ClientID, weighting: Weighting, limits: ClaimLimits) -> Double {
        weighting.share(of: client, samples: samples, limits: limits)
    }
}
