/// What `CheckpointStore.recordUpdate(_:)` did. Sendable.
package enum RecordOutcome: Sendable, Equatable {
    /// A new update, stored under this id.
    case stored(Int64)
    /// The same client and sequence were recorded before, under this id; nothing was
    /// written. The server acknowledges again without applying it twice.
    case duplicate(Int64)

    /// The update's id either way.
    package var id: Int64 {
        switch self {
        case .stored(let id), .duplicate(let id): id
        }
    }

    package var isDuplicate: Bool {
        if case .duplicate = self { true } else { false }
    }
}
