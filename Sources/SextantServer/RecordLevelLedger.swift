import SextantPrivacy
import SextantRuntime

/// The server's view of DP-SGD in the clients: every client runs the same plan from the
/// shared configuration, so the server can account each client's records from the steps
/// its updates report, and store the largest epsilon with every checkpoint.
///
/// With `privacy.unit: subject` every silo samples subjects at the same configured rate, so
/// each client's steps are a sampled Gaussian mechanism the server can account without
/// knowing its subjects; not knowing which silos hold whom, it counts every subject in
/// every silo (``SubjectLevelAccounting``, docs/design.md 7).
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

    /// The subject-level epsilon (every subject counted in every silo), or the largest
    /// record-level epsilon over the clients, at the plan's delta.
    func epsilon() -> Double? {
        if privacy.unit == .subject { return subjectEpsilon() }
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

    /// Every client's steps composed, as for a subject whose records are in every silo.
    private func subjectEpsilon() -> Double? {
        guard let plan = try? privacy.recordLevelPlan(federation: federation, records: nil) else { return nil }
        let silos = steps.values.filter { $0 > 0 }.map {
            SubjectLevelAccounting.Silo(noiseMultiplier: plan.noiseMultiplier, sampleRate: plan.sampleRate, steps: $0)
        }
        guard !silos.isEmpty else { return nil }
        return try? SubjectLevelAccounting.epsilon(silos: silos, holdings: nil, delta: plan.delta).epsilon
    }
}
