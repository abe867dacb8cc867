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
    func share(of client: ClientID, samples: [ClientID: Int], limits: ClaimLimits = .none) -> Double {
        guard samples[client] != nil, !samples.isEmpty else { return 0 }
        switch self {
        case .equal:
            return 1 / Double(samples.count)
        case .samples:
            let total = samples.values.reduce(0) { $0 + max($1, 0) }
            return total > 0 ? Double(max(samples[client]!, 0)) / Double(total) : 1 / Double(samples.count)
        }
    }
}
