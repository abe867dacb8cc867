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
    /// the files of the large deltas are written and fdatasync'd side by side, their
    /// directory is synced once, and every row commits in one transaction (one WAL sync).
    /// Call it before acknowledging any of them: once it returns, a crash loses none of
    /// them; if it throws, none is stored. Outcomes come in the order given; a retry of a
    /// stored update is `.duplicate` and stores nothing (docs/design.md 3).
    package func recordUpdates(_ records: [UpdateRecord]) throws -> [RecordOutcome] {
        guard !records.isEmpty else { return [] }
        let bytes = records.map { UnsafeRawBufferPointer($0.delta) }
        let large = bytes.indices.filter { storesAsFile(bytes[$0]) }
        let written = blobs.write(large.map { bytes[$0] })
        let hashes = written.compactMap { try? $0.get() }
        var deltas = bytes.map(StoredBlob.inline)
        for (index, result) in zip(large, written) {
            switch result {
            case .success(let sha256):
                deltas[index] = .file(sha256: sha256, count: records[index].delta.count)
            case .failure(let error):
                removeUnreferencedBlobs(hashes)
                throw error
            }
        }
        let received = now
        let outcomes: [RecordOutcome]
        do {
            outcomes = try write("record \(records.count) updates") { db in
                try records.indices.map { index in
                    try insertUpdate(
                        db, records[index].submission, id: records[index].id, delta: deltas[index],
                        received: received)
                }
            }
        } catch {
            removeUnreferencedBlobs(hashes)
            throw error
        }
        // Retries whose first copy is stored already: their files are extra ones.
        removeUnreferencedBlobs(
            zip(outcomes, deltas).compactMap { outcome, delta in outcome.isDuplicate ? delta.fileSHA256 : nil })
        return outcomes
    }

}
