/// Token buckets per key (a client identity): each key may do `rate` things per second on
/// average, in bursts of up to `burst`. Keys idle long enough to have refilled are
/// forgotten, so a peer inventing new identities cannot grow the table without bound.
struct RateLimiter {
    let rate: Double
    let burst: Double
    private var buckets: [String: Bucket] = [:]
    private var lastPrune = 0.0

    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    init(perSecond rate: Double, burst: Double) {
        precondition(rate > 0 && burst >= 1, "a rate limit needs a positive rate and a burst of at least 1")
        self.rate = rate
        self.burst = burst
    }

    /// Takes one token for `key` at time `now` (seconds); false if the key is over its rate.
    mutating func allow(_ key: String, now: Double) -> Bool {
        pruneIfDue(now: now)
        var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
        bucket.tokens = min(burst, bucket.tokens + max(0, now - bucket.updated) * rate)
        bucket.updated = now
        let allowed = bucket.tokens >= 1
        if allowed { bucket.tokens -= 1 }
        buckets[key] = bucket
        return allowed
    }

    /// Gives back the token a message took, for a message the server turned out to have
    /// asked for (never above the burst).
    mutating func refund(_ key: String) {
        guard var bucket = buckets[key] else { return }
        bucket.tokens = min(burst, bucket.tokens + 1)
        buckets[key] = bucket
    }

    var trackedKeys: Int { buckets.count }

    private mutating func pruneIfDue(now: Double) {
        let refill = burst / rate
        guard now - lastPrune >= refill else { return }
        lastPrune = now
        buckets = buckets.filter { now - $0.value.updated < refill }
    }
}
