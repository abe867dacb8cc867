import SextantPrivacy
import SextantRuntime

/// The server's view of record-level DP-SGD: every client runs the same plan from the
/// shared configuration, so the server can account each client's records from the steps
/// its updates report, and store the largest epsilon with every checkpoint.
struct RecordLevelLedger {
    let privacy: PrivacySection
    let federation: FederationConfiguration
    /// DP-SGD steps each client's records were used in, over all its stored updates.
    private(set) var steps: [String: Int] = [:]
    private(set) var samples: [String: Int] = [:]

    init(federation: FederationConfiguration) {
        self.federation = federation
        privacy = federation.privacy
    }

    mutating func record(client: String, steps count: Int, samples records: Int) {
        steps[client, default: 0] += count
        samples[client] = records
    }

    /// The largest record-level epsilon over the clients, at the plan's delta.
    func epsilon() -> Double? {
        var worst: Double?
        for (client, count) in steps where count > 0 {
            guard let records = samples[client],
                let plan = try? privacy.recordLevelPlan(federation: federation, records: records),
                let guarantee = try? RDPAccountant.epsilon(
                    noiseMultiplier: plan.noiseMultiplier, sampleRate: plan.sampleRate, steps: count, delta: plan.delta)
            else { continue }
            worst = max(worst ?? 0, guarantee.epsilon)
        }
        return worst
    }
}
