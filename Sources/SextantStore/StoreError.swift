import GRDB

/// An error of the checkpoint store: a code to match on and a message that names the
/// database file and the problem, so an operator can act on it.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The file could not be opened or created (missing directory, permissions).
        case cannotOpen
        /// The file exists but is not a SQLite database.
        case notADatabase
        /// SQLite reports the database as malformed.
        case corrupt
        /// The database was written by a newer Sextant with migrations this one doesn't know.
        case newerSchema
        /// A SQLite database that belongs to some other application.
        case foreignDatabase
        /// A write was refused because the database or its directory is read-only.
        case readOnly
        /// The disk (or quota) is full.
        case diskFull
        /// Another connection holds the lock for longer than the busy timeout.
        case busy
        /// A row would break a uniqueness, foreign-key or check constraint.
        case constraintViolation
        /// The run, checkpoint or update named by the caller does not exist.
        case notFound
        /// Arguments or stored data that don't make sense (wrong length, wrong state).
        case invalidData
        /// A model file that is truncated, has the wrong magic or a bad checksum.
        case invalidModelFile
        /// Any other SQLite or I/O failure.
        case ioFailure
        /// The database or its -wal file was removed or replaced while the store had it
        /// open: what is written now may go to a file nobody will read again.
        case fileReplaced
    }

    public var code: Code
    public var message: String

    public init(code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

extension StoreError {
    /// Wraps any error thrown while doing `action` on the database at `path`.
    /// StoreErrors pass through; SQLite result codes map to the closest code.
    init(wrapping error: any Error, path: String, action: String) {
        if let storeError = error as? StoreError {
            self = storeError
            return
        }
        if error is RowDecodingError || error is DecodingError {
            self.init(code: .invalidData, "\(path): could not \(action): unreadable stored value: \(error)")
            return
        }
        guard let dbError = error as? DatabaseError else {
            self.init(code: .ioFailure, "\(path): could not \(action): \(error)")
            return
        }
        let detail = dbError.message ?? "\(dbError.resultCode)"
        let code: Code
        switch dbError.resultCode {
        case .SQLITE_NOTADB: code = .notADatabase
        case .SQLITE_CORRUPT: code = .corrupt
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH: code = .cannotOpen
        case .SQLITE_READONLY: code = .readOnly
        case .SQLITE_FULL: code = .diskFull
        case .SQLITE_BUSY, .SQLITE_LOCKED: code = .busy
        case .SQLITE_CONSTRAINT: code = .constraintViolation
        default: code = .ioFailure
        }
        let hint: String
        switch code {
        case .notADatabase: hint = " (the file is not a SQLite database)"
        case .corrupt: hint = " (the database is damaged; run `sextant checkpoints verify`)"
        case .diskFull: hint = " (nothing of this operation was saved)"
        case .readOnly: hint = " (the file or its directory is read-only; nothing was saved)"
        default: hint = ""
        }
        self.init(code: code, "\(path): could not \(action): \(detail)\(hint)")
    }
}
