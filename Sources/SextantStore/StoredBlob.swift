import Foundation
import GRDB

/// Where a parameter vector (an update's delta, a checkpoint's parameters) is stored: bound
/// to its SQLite row, or in a file beside the database named by its SHA-256
/// (docs/design.md 6).
enum StoredBlob {
    case inline(Data)
    case file(sha256: String, count: Int)

    /// The bytes bound to SQLite in place, valid while `bytes` is: no copy.
    static func inline(_ bytes: UnsafeRawBufferPointer) -> StoredBlob {
        guard let base = bytes.baseAddress else { return .inline(Data()) }
        return .inline(
            Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count, deallocator: .none))
    }

    var fileSHA256: String? {
        if case .file(let sha256, _) = self { sha256 } else { nil }
    }
}

extension CheckpointStore {
    /// Whether a vector of these bytes goes to a file beside the database (from
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
