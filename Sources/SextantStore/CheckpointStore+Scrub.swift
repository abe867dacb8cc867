import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension CheckpointStore {
    /// Most bytes one scrubbing row holds: the free pages are taken in steps of this size.
    static let scrubStep = 64 << 20

    /// Overwrites every free page of the database with zeros, so that no delta of an update
    /// already applied (a site's own update) stays readable in the file once its row is
    /// gone. While a run goes on, freed pages are left as they are (`secure_delete = FAST`)
    /// and the next round's deltas take them again; the server calls this when it ends,
    /// and the closed file holds no applied delta (docs/design.md 6). Returns how many
    /// pages were free.
    ///
    /// Takes the free pages with rows of zeros in a table of its own, then drops the table
    /// with SQLite's secure delete on, which zeroes the pages again as it frees them.
    @discardableResult
    package func scrubFreePages() throws -> Int {
        try write("zero the free pages") { db in
            let free = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            guard free > 0 else { return 0 }
            let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
            try db.execute(sql: "PRAGMA secure_delete = ON")
            defer { try? db.execute(sql: "PRAGMA secure_delete = FAST") }
            try db.execute(sql: "CREATE TABLE sextant_scrub (zeros BLOB NOT NULL)")
            while let remaining = try Int.fetchOne(db, sql: "PRAGMA freelist_count"), remaining > 0 {
                let bytes = min(remaining * pageSize, Self.scrubStep)
                try db.execute(sql: "INSERT INTO sextant_scrub (zeros) VALUES (zeroblob(?))", arguments: [bytes])
            }
            try db.execute(sql: "DROP TABLE sextant_scrub")
            return free
        }
    }

    /// Removes the delta segments no row names (the current one included: nothing more is
    /// appended after this) and zeroes, in those that pending updates still need, every byte
    /// outside their records, so that no applied update's delta stays readable beside the
    /// database either. The server calls it when it ends, with ``scrubFreePages()``
    /// (docs/design.md 6). Returns how many bytes it zeroed.
    @discardableResult
    package func scrubSegments() throws -> Int64 {
        segments.closeCurrent()
        let kept = try read("list the delta segments rows refer to") { db in
            var kept: [Int64: [(offset: Int64, bytes: Int64)]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT segment, offset, count FROM update_segments") {
                let count: Int64 = row["count"]
                kept[row["segment"], default: []].append(
                    (row["offset"], Int64(DeltaSegments.headerSize) + count * Int64(MemoryLayout<Float>.size)))
            }
            return kept
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: segments.path)) ?? []
        var zeroed: Int64 = 0
        for number in names.compactMap(DeltaSegments.segmentNumber).sorted() {
            if let ranges = kept[number] {
                zeroed += try segments.zero(segment: number, keeping: ranges)
            } else {
                unlink(segments.filePath(segment: number))
            }
        }
        return zeroed
    }
}
