import Foundation
import GRDB

extension CheckpointStore {
    /// One update of a group commit (``recordUpdates(_:)``): its row, the id the caller
    /// chose for it, and its delta, read in place from the buffer it arrived in. Not
    /// `Sendable`: it points into that buffer, valid only while the caller holds it.
    package struct UpdateRecord {
        package var id: Int64
        package var submission: UpdateSubmission
        package var delta: UnsafeBufferPointer<Float>

        package init(id: Int64, submission: UpdateSubmission, delta: UnsafeBufferPointer<Float>) {
            self.id = id
            self.submission = submission
            self.delta = delta
        }
    }

    /// The first id free for an update whose id the caller chooses (``recordUpdates(_:)``):
    /// above every id the table holds or ever held, so a removed row's id is not reused.
    package func nextUpdateID() throws -> Int64 {
        try read("find the next update id") { db in
            let highest = try Int64.fetchOne(db, sql: "SELECT max(id) FROM updates") ?? 0
            let sequence =
                try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'updates'") ?? 0
            return max(highest, sequence) + 1
        }
    }

    /// Records updates that arrived together so that they share one sync (a group commit):
    /// their deltas are appended to the delta segments with one write and one fdatasync,
    /// straight from the buffers they arrived in, and every row commits in one transaction
    /// (one WAL sync). Call it before acknowledging any of them: once it returns, a crash
    /// loses none of them; if it throws, none is stored. Outcomes come in the order given; a retry of a stored update
    /// is `.duplicate` and stores nothing (docs/design.md 3).
    package func recordUpdates(_ records: [UpdateRecord]) throws -> [RecordOutcome] {
        guard !records.isEmpty else { return [] }
        let received = now
        return try recording(records.map { UnsafeRawBufferPointer($0.delta) }, "record \(records.count) updates") {
            db, deltas in
            try records.indices.map { index in
                try insertUpdate(
                    db, records[index].submission, id: records[index].id, delta: deltas[index], received: received)
            }
        }
    }
}
