import CCRC32C
import Foundation
import GRDB
import Testing

@testable import SextantStore

@Suite("Small deltas appended to segments beside the database")
struct DeltaSegmentTests {
    private func startRun(_ store: CheckpointStore) throws {
        try store.startRun(id: "run-1", config: "", fingerprint: "f", initialParameters: vector(100, seed: 0))
    }

    private func segmentRows(_ store: CheckpointStore) throws -> [Row] {
        try store.read("rows") { try Row.fetchAll($0, sql: "SELECT * FROM update_segments ORDER BY update_id") }
    }

    @Test("CRC-32C of the standard check string, with the processor's instruction and without")
    func crc32cCheckValue() {
        let check = Array("123456789".utf8)
        #expect(check.withUnsafeBytes(DeltaSegments.crc32c) == 0xE306_9283)
        let bytewise = check.withUnsafeBufferPointer { ~sextant_crc32c_bytewise(~0, $0.baseAddress, $0.count) }
        #expect(bytewise == 0xE306_9283)
        // Lengths around the 8-byte steps and around the three-stream threshold agree with
        // the bit-at-a-time loop.
        let bytes = (0..<40_000).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ $0 >> 7) }
        for count in Array(0...100) + Array(12_270...12_300) + [39_999, 40_000] {
            let fast = bytes.withUnsafeBytes { DeltaSegments.crc32c(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            let slow = bytes.withUnsafeBufferPointer { ~sextant_crc32c_bytewise(~0, $0.baseAddress, count) }
            #expect(fast == slow, "\(count) bytes")
        }
    }

    @Test("a group's small deltas are one after another in one segment, and survive reopening")
    func groupSharesASegment() throws {
        try withTemporaryDirectory { directory in
            let deltas = [vector(100, seed: 1), vector(100, seed: 2), vector(100, seed: 3)]
            do {
                let store = try makeStore(in: directory)
                try startRun(store)
                let outcomes = try deltas.withUnsafeBufferPointers { buffers in
                    try store.recordUpdates(
                        buffers.indices.map { index in
                            CheckpointStore.UpdateRecord(
                                id: Int64(index + 1),
                                submission: submission(client: "c\(index)", sequence: 1, delta: nil),
                                delta: buffers[index])
                        })
                }
                #expect(outcomes == [.stored(1), .stored(2), .stored(3)])
                let rows = try segmentRows(store)
                #expect(rows.map { $0["segment"] as Int64 } == [1, 1, 1])
                let offsets: [Int64] = [0, 416, 832]  // each record: a 16-byte header, then 4 bytes per value
                #expect(rows.map { $0["offset"] as Int64 } == offsets)
                let size = try FileManager.default.attributesOfItem(atPath: store.segments.filePath(segment: 1))[.size]
                #expect(size as? Int == 1248)
                try store.close()
            }
            let reopened = try makeStore(in: directory)
            #expect(try reopened.pendingUpdates(run: "run-1").map(\.delta) == deltas)
            #expect(try reopened.verify().isOK)
            // A store that opens for writing never appends to a segment a crash may have cut.
            _ = try reopened.recordUpdate(submission(client: "d", sequence: 1, delta: vector(100, seed: 4)))
            #expect(try segmentRows(reopened).last?["segment"] == 2)
        }
    }

    @Test("a damaged record is named by verify and not replayed; the others are")
    func damagedRecordIsNamed() throws {
        try withTemporaryDirectory { directory in
            let store = try makeStore(in: directory)
            try startRun(store)
            let first = try store.recordUpdate(submission(client: "a", sequence: 1, delta: vector(10, seed: 1)))
            _ = try store.recordUpdate(submission(client: "b", sequence: 1, delta: vector(10, seed: 2)))
            // Flip one bit of the first delta's third value.
            let file = try FileHandle(forUpdating: URL(fileURLWithPath: store.segments.filePath(segment: 1)))
            try file.seek(toOffset: UInt64(DeltaSegments.headerSize + 8))
            var byte = try #require(try file.read(upToCount: 1))
            byte[0] ^= 0x10
            try file.seek(toOffset: UInt64(DeltaSegments.headerSize + 8))
            try file.write(contentsOf: byte)
            try file.close()
            let report = "\(try store.verify())"
            #expect(report.contains("update \(first.id) of a: its buffered delta cannot be read"), "\(report)")
            #expect(report.contains("CRC-32C"), "\(report)")
            let pending = try store.pendingUpdates(run: "run-1")
            #expect(pending.map(\.delta) == [nil, vector(10, seed: 2)])
        }
    }

    @Test("a row whose record would not fit in its segment is named, and nothing is allocated for it")
    func recordBeyondTheFileIsNamed() throws {
        try withTemporaryDirectory { directory in
            let store = try makeStore(in: directory)
            try startRun(store)
            _ = try store.recordUpdate(submission(client: "a", sequence: 1, delta: vector(100, seed: 1)))
            for (column, value) in [("count", Int64(1) << 60), ("count", -1), ("offset", Int64(1) << 40)] {
                try store.pool.write { db in
                    try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
                    try db.execute(sql: "UPDATE update_segments SET count = 100, offset = 0")
                    try db.execute(sql: "UPDATE update_segments SET \(column) = ?", arguments: [value])
                }
                let report = "\(try store.verify())"
                #expect(report.contains("does not fit in the file's 416 bytes"), "\(column) \(value): \(report)")
                #expect(try store.pendingUpdates(run: "run-1").map(\.delta) == [nil])
            }
        }
    }

    @Test("a missing segment is named by verify")
    func missingSegmentIsNamed() throws {
        try withTemporaryDirectory { directory in
            let store = try makeStore(in: directory)
            try startRun(store)
            _ = try store.recordUpdate(submission(client: "a", sequence: 1, delta: vector(10, seed: 1)))
            try FileManager.default.removeItem(atPath: store.segments.filePath(segment: 1))
            let report = "\(try store.verify())"
            #expect(report.contains("segment-1.log is missing"), "\(report)")
        }
    }

    @Test("segments rotate at their limit; one no row names is written over from its start")
    func rotationAndRecycling() throws {
        try withTemporaryDirectory { directory in
            let segments = DeltaSegments(path: directory.path, segmentLimit: 100, spareBudget: 192)
            let delta = vector(20, seed: 1)
            let append = { () throws -> SegmentRecord in try delta.withUnsafeBytes { try segments.append([$0])[0] } }
            let first = try (0..<3).map { _ in try append() }
            // 96 bytes fit under the limit, the second record passes it, the third begins a new segment.
            #expect(first.map(\.segment) == [1, 1, 2])
            #expect(first.map(\.offset) == [0, 96, 0])
            #expect(first.allSatisfy { segments.read($0) == .success(delta) })
            // Segment 1 is named by no row: it becomes the spare; segment 2 is the current one.
            #expect(segments.candidates([]) == [1])
            segments.removeUnreferenced([1, 2]) { _ in false }
            #expect(segments.spares == [1])
            // The next segment after 2 is 1, written over from its start, its size unchanged.
            let next = try (0..<2).map { _ in try append() }
            #expect(next.map(\.segment) == [2, 1])
            #expect(next.map(\.offset) == [96, 0])
            #expect(segments.read(next[1]) == .success(delta))
            let size = try FileManager.default.attributesOfItem(atPath: segments.filePath(segment: 1))[.size]
            #expect(size as? Int == 192)
            // Segment 2, closed since, becomes the spare and the next segment after 1.
            segments.removeUnreferenced(segments.candidates([])) { _ in false }
            #expect(segments.spares == [2])
            #expect(try append().segment == 1)
            #expect(try append().segment == 2)
            segments.removeUnreferenced(segments.candidates([])) { _ in false }
            #expect(segments.spares == [1])
            // With one spare of 192 bytes kept, another segment no row names is removed.
            #expect(try append().segment == 2)
            segments.removeUnreferenced(segments.candidates([])) { _ in false }
            #expect(segments.spares == [1])
            #expect(!FileManager.default.fileExists(atPath: segments.filePath(segment: 2)))
        }
    }

    @Test("a segment that cannot be written stores nothing and names the problem")
    func failedAppendStoresNothing() throws {
        try withTemporaryDirectory { directory in
            let store = try makeStore(in: directory)
            try startRun(store)
            try FileManager.default.removeItem(atPath: store.blobs.path)
            let error = #expect(throws: StoreError.self) {
                try store.recordUpdate(submission(client: "a", sequence: 1, delta: vector(10, seed: 1)))
            }
            #expect(error?.message.contains("segment-1.log") == true, "\(error?.message ?? "")")
            #expect(try store.updates(run: "run-1").isEmpty)
        }
    }

    @Test("the server's start removes the segments no row names and keeps the others")
    func orphanSegmentsAreRemoved() throws {
        try withTemporaryDirectory { directory in
            do {
                let store = try makeStore(in: directory)
                try startRun(store)
                let applied = try store.recordUpdate(submission(client: "a", sequence: 1, delta: vector(10, seed: 1)))
                try store.commitAggregation(
                    run: "run-1", version: 1, parameters: vector(100, seed: 1),
                    appliedUpdates: [AppliedUpdate(id: applied.id, staleness: 0)])
                try store.close()
            }
            let second = try makeStore(in: directory)
            _ = try second.recordUpdate(submission(client: "b", sequence: 1, delta: vector(10, seed: 2)))
            try second.close()
            let third = try makeStore(in: directory)
            #expect(try third.removeOrphanBlobs() == 1)
            #expect(try deltaFiles(of: third) == ["segment-2.log"])
            #expect(try third.pendingUpdates(run: "run-1").map(\.delta) == [vector(10, seed: 2)])
        }
    }
}

extension Array where Element == [Float] {
    /// Runs `body` with a buffer of each vector, valid for the call.
    func withUnsafeBufferPointers<Result>(_ body: ([UnsafeBufferPointer<Float>]) throws -> Result) rethrows -> Result {
        func nest(_ index: Int, _ buffers: [UnsafeBufferPointer<Float>]) throws -> Result {
            guard index < count else { return try body(buffers) }
            return try self[index].withUnsafeBufferPointer { try nest(index + 1, buffers + [$0]) }
        }
        return try nest(0, [])
    }
}
