import Foundation

/// How large the fault-injection tests run. CI runs `ci` (the default: a few faults, tens
/// of seconds per test); `SEXTANT_CHAOS_SIZE=full` (IntegrationTests/chaos/run-full.sh)
/// runs the sizes docs/reliability.md reports. The faults' moments and victims come from
/// a seeded generator: `SEXTANT_CHAOS_SEED=N` repeats a run, and every test prints its seed.
struct ChaosSize: Sendable {
    var name: String
    /// Times the server is killed with SIGKILL in one run (test a).
    var serverKills: Int
    /// Clients in the churn test (b) and their waves of kills.
    var churnClients: Int
    var churnWaves: Int
    /// Share of the clients killed (and started again) in each wave.
    var churnFraction: Double
    /// Times the database's file system is filled or made read-only in one run (test c).
    var storageFaults: Int
    /// Aggregations per run.
    var versions: Int
    var seed: UInt64

    static let ci = ChaosSize(
        name: "ci", serverKills: 3, churnClients: 6, churnWaves: 2, churnFraction: 0.34, storageFaults: 1, versions: 12,
        seed: 0)
    static let full = ChaosSize(
        name: "full", serverKills: 10, churnClients: 10, churnWaves: 6, churnFraction: 0.4, storageFaults: 3,
        versions: 40,
        seed: 0)

    /// The size and seed the environment asks for.
    static var current: ChaosSize {
        let environment = ProcessInfo.processInfo.environment
        var size = environment["SEXTANT_CHAOS_SIZE"] == "full" ? full : ci
        size.seed = environment["SEXTANT_CHAOS_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...999_999)
        return size
    }
}
