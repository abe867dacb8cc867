/// Which clients may send their update now. libzmq reads a whole message from every peer
/// that sends, so bounding the uploads in flight bounds the server's memory whatever the
/// number of clients: the others wait, first come first served.
struct UploadSlots {
    let capacity: Int
    /// Granted clients and when they were granted.
    private(set) var granted: [String: Double] = [:]
    private(set) var queue: [String] = []

    init(capacity: Int) {
        precondition(capacity > 0, "upload slots need a positive capacity")
        self.capacity = capacity
    }

    /// `client` asks for a slot; returns true when it should be (re)sent a grant now. A
    /// client already holding one is granted again, since the first grant may have been lost.
    mutating func request(_ client: String, now: Double) -> Bool {
        if granted[client] != nil { return true }
        if granted.count < capacity {
            granted[client] = now
            return true
        }
        if !queue.contains(client) { queue.append(client) }
        return false
    }

    /// `client` uploaded, left or was lost: frees its slot and returns the waiting clients
    /// that now get one. `isConnected` skips queued clients that have gone.
    mutating func release(_ client: String, now: Double, isConnected: (String) -> Bool) -> [String] {
        queue.removeAll { $0 == client }
        guard granted.removeValue(forKey: client) != nil else { return [] }
        var promoted: [String] = []
        while granted.count < capacity, !queue.isEmpty {
            let next = queue.removeFirst()
            guard isConnected(next) else { continue }
            granted[next] = now
            promoted.append(next)
        }
        return promoted
    }

    /// Grants older than `deadline` that were never used.
    func expired(before deadline: Double) -> [String] {
        granted.filter { $0.value < deadline }.keys.sorted()
    }
}
