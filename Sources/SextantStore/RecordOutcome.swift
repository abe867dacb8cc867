/// What `CheckpointStore.recordUpdate(_:)` did. Sendable.
public enum RecordOutcome: Sendable, Equatable {
    /// A new update, stored under this id.
    case stored(Int64)
    /// The same client and sequence were recorded before, under this id; nothing was
    /// written. The server acknowledges again without applying it twice.
    case duplicate(Int64)

    /// The update's id either way.
    public var id: Int64 {
        switch self {
        case .stored(let id), .duplicate(let id): id
        }
    }

    public var isDuplicate: Bool {
        if case .duplicate = self { true } else { false }
    }
}
