import Foundation
import SextantStore
import Testing

@Suite struct StorageDiagnosisTests {
    func diagnosis(free: Int? = 10 << 30, readOnly: Bool = false, limit: Int? = nil, largest: Int = 4096)
        -> StorageDiagnosis
    {
        StorageDiagnosis(
            directory: "/var/lib/sextant", availableBytes: free, isReadOnly: readOnly, fileSizeLimit: limit,
            largestFile: "checkpoints.sqlite-wal", largestFileSize: largest)
    }

    @Test func aFullFileSystemIsNamed() {
        #expect(diagnosis(free: 4096).cause == "the file system holding /var/lib/sextant is full (4096 bytes free)")
    }

    @Test func aReadOnlyFileSystemComesFirst() {
        #expect(
            diagnosis(free: 0, readOnly: true).cause == "the file system holding /var/lib/sextant is mounted read-only")
    }

    /// SQLite reports EFBIG as a plain "disk I/O error": the limit must be named.
    @Test func aFileAtTheFileSizeLimitIsNamed() throws {
        let cause = try #require(diagnosis(limit: 1_000_000, largest: 990_000).cause)
        #expect(cause.contains("checkpoints.sqlite-wal has reached the process's file-size limit of 1000000 bytes"))
        #expect(cause.contains("ulimit -f"))
    }

    @Test func aLimitFarAboveTheFilesIsNoCause() {
        #expect(diagnosis(limit: 1 << 30, largest: 1 << 20).cause == nil)
        #expect(diagnosis().description.hasPrefix("no cause found: /var/lib/sextant has 10240 MiB free"))
    }

    /// Read from the system: a fresh directory with a small file on a disk with room.
    @Test func readsTheFileSystemOfADatabase() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("db.sqlite").path
            try Data(count: 8192).write(to: URL(fileURLWithPath: path))
            let probed = StorageDiagnosis(databasePath: path)
            #expect(probed.directory == directory.path)
            #expect(probed.largestFile == "db.sqlite" && probed.largestFileSize == 8192)
            #expect(!probed.isReadOnly)
            #expect((probed.availableBytes ?? 0) > 0)
        }
    }
}
