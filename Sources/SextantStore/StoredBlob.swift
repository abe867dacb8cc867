import Foundation
import GRDB

/// Where a parameter vector (an update's delta, a checkpoint's parameters) is stored: bound
/// to its SQLite row, in a file beside the database named by its SHA-256 (a checkpoint from
/// the file threshold on, a delta of an earlier build), or in a record of a delta segment
/// (every delta now, docs/design.md 6).
enum StoredBlob {
    case inline(Data)
    case file(sha256: String, count: Int)
    case segment(SegmentRecord)

    /// The bytes bound to SQLite in place, valid while `bytes` is: no copy.
    static func inline(_ bytes: UnsafeRawBufferPointer) -> StoredBlob {
        guard let base = bytes.baseAddress else { return .inline(Data()) }
        return .inline(
            Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count, deallocator: .none))
    }

    var fileSHA256: String? {
        if case .file(let sha256, _) = self { sha256 } else { nil }
    }

    /// What storing this took that a failed or duplicate row leaves unnamed.
    var released: ReleasedDelta? {
        switch self {
        case .inline: nil
        case .file(let sha256, _): .file(sha256)
        case .segment(let record): .segment(record.segment)
        }
    }
}

/// A file or segment that held a delta whose row is gone: removed once the transaction that
/// dropped the row has committed, if no other row names it.
enum ReleasedDelta {
    case file(String)
    case segment(Int64)
}

extension CheckpointStore {
    /// Appends deltas to the delta segments together (one `writev`, one `fdatasync`) before
    /// the rows that name them commit (docs/design.md 6). An empty delta is bound to its row.
    /// If it throws, no row will name what it appended.
    func storeDeltas(_ bytes: [UnsafeRawBufferPointer]) throws -> [StoredBlob] {
        var stored = bytes.map(StoredBlob.inline)
        let written = bytes.indices.filter { !bytes[$0].isEmpty }
        guard !written.isEmpty else { return stored }
        guard mode == .readWrite else {
            throw StoreError(code: .readOnly, "\(path): opened read-only, cannot store deltas")
        }
        for (index, record) in zip(written, try segments.append(written.map { bytes[$0] })) {
            stored[index] = .segment(record)
        }
        return stored
    }

    /// Removes, once the transaction that dropped their rows has committed, the files and
    /// segments of `released` that no row names any more.
    func remove(_ released: [ReleasedDelta]) {
        var files: [String] = []
        var segmentNumbers: Set<Int64> = []
        for item in released {
            switch item {
            case .file(let sha256): files.append(sha256)
            case .segment(let number): segmentNumbers.insert(number)
            }
        }
        removeUnreferencedBlobs(files)
        removeUnreferencedSegments(segmentNumbers)
    }

    /// Whether a checkpoint of these bytes goes to a file beside the database (from
    /// `fileThreshold` bytes on) rather than into SQLite.
    func storesAsFile(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.baseAddress != nil && bytes.count >= fileThreshold && mode == .readWrite
    }

    /// Stores `bytes` where their size says, then runs `body` in one write transaction with
    /// where they went. A file is written once from `bytes`, hashed while written, and
    /// durable (file and directory synced) before the transaction that names it begins, so
    /// a row never names a file a crash could lose; if the transaction fails, the file is
    /// removed unless another row names it. Smaller vectors are bound to SQLite in place,
    /// valid for the call, which is all SQLite's binding needs. `beforeCommit` runs between
    /// the two steps, outside the transaction.
    func writing<T>(
        _ bytes: UnsafeRawBufferPointer, _ action: String, beforeCommit: () throws -> Void = {},
        _ body: (Database, StoredBlob) throws -> T
    ) throws -> T {
        let stored: StoredBlob =
            storesAsFile(bytes)
            ? .file(sha256: try blobs.write(bytes), count: bytes.count / MemoryLayout<Float>.size)
            : .inline(bytes)
        do {
            try beforeCommit()
            return try write(action) { db in try body(db, stored) }
        } catch {
            if let sha256 = stored.fileSHA256 { removeUnreferencedBlobs([sha256]) }
            throw error
        }
    }
}
