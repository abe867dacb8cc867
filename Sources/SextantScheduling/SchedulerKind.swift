import Foundation

/// The scheduling algorithms Sextant implements, by the name a configuration uses.
public enum SchedulerKind: String, Sendable, Codable, CaseIterable {
    /// FedCompass: arrival groups of clients given step counts so that they finish together.
    case compass
    /// Synchronous FedAvg rounds.
    case fedavg
    /// FedAvg rounds with server momentum.
    case fedavgm
    /// Every update applied on arrival.
    case fedasync
    /// Updates buffered and applied K at a time.
    case fedbuff

    /// The kind a snapshot was taken from. Snapshots written before snapshots were tagged
    /// hold a bare FedAvg state and report `.fedavg`.
    public static func of(snapshot data: Data) throws -> SchedulerKind {
        struct Header: Decodable { var kind: SchedulerKind? }
        do {
            return try JSONDecoder().decode(Header.self, from: data).kind ?? .fedavg
        } catch {
            throw SchedulerError(.corruptSnapshot, "the scheduler state is not a snapshot Sextant wrote: \(error)")
        }
    }

    /// Restores whichever scheduler took the snapshot.
    public static func restoreScheduler(from data: Data) throws -> any Scheduler {
        switch try of(snapshot: data) {
        case .compass: return try CompassScheduler(restoring: data)
        case .fedavg, .fedavgm: return try FedAvgScheduler(restoring: data)
        case .fedasync: return try FedAsyncScheduler(restoring: data)
        case .fedbuff: return try FedBuffScheduler(restoring: data)
        }
    }
}

/// A scheduler's state as it is checkpointed: `{"kind": ..., "state": ...}`, so that a
/// restarted server restores the right algorithm.
struct TaggedSnapshot<State: Codable>: Codable {
    var kind: SchedulerKind
    var state: State

    static func encode(_ state: State, kind: SchedulerKind) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try encoder.encode(Self(kind: kind, state: state))
    }

    static func decode(_ data: Data, expecting kinds: Set<SchedulerKind>) throws -> State {
        let kind = try SchedulerKind.of(snapshot: data)
        guard kinds.contains(kind) else {
            throw SchedulerError(
                .wrongKind,
                "the snapshot holds a \(kind.rawValue) scheduler, not \(kinds.map(\.rawValue).sorted().joined(separator: "/"))"
            )
        }
        do {
            return try JSONDecoder().decode(Self.self, from: data).state
        } catch {
            throw SchedulerError(.corruptSnapshot, "the \(kind.rawValue) scheduler state cannot be read: \(error)")
        }
    }
}

/// Why a scheduler could not be made or restored.
public struct SchedulerError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case corruptSnapshot
        case wrongKind
        case invalidConfiguration
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

extension Weighting {
    /// A client's share p_i of the federation: its samples over the samples of every client
    /// the scheduler knows (`.samples`), or 1/N over the N known clients (`.equal`).
    ///
    /// Counts are claims (docs/design.md 10): each is bounded to
    /// `[0, limits.maxSamplesPerClient]` and summed in floating point, so no claim can trap,
    /// and no share exceeds `limits.maxClientShare`: a client over it is cut to it and the
    /// excess goes to the others in proportion to their samples, repeatedly, until none is
    /// over. The shares still sum to 1. A maximum below 1/N cannot hold; then every client
    /// gets 1/N, the smallest largest share there is.
    func share(of client: ClientID, samples: [ClientID: Int], limits: ClaimLimits = .none) -> Double {
        guard samples[client] != nil else { return 0 }
        let equal = 1 / Double(samples.count)
        let cap = limits.maxClientShare.isNaN ? 1 : min(max(limits.maxClientShare, 0), 1)
        guard self == .samples, cap * Double(samples.count) > 1 else { return equal }
        let bound = max(limits.maxSamplesPerClient, 0)
        // The clients not yet cut to the cap, with their bounded counts, and the mass left for them.
        var open = samples.mapValues { Double(min(max($0, 0), bound)) }
        var mass = 1.0
        while true {
            let total = open.values.reduce(0, +)
            guard total > 0 else { return open[client] == nil ? cap : mass / Double(open.count) }
            let over = open.filter { mass * $0.value / total > cap }
            guard !over.isEmpty else { return open[client].map { mass * $0 / total } ?? cap }
            if over[client] != nil { return cap }
            for name in over.keys { open[name] = nil }
            mass -= cap * Double(over.count)
        }
    }
}
