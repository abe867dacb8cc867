import CCRC32C
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where one small delta is in the delta segments: the segment's number, the offset of its
/// record, its value count and the CRC-32C of its bytes, as its `update_segments` row
/// records them (docs/design.md 6). Sendable.
package struct SegmentRecord: Sendable, Equatable {
    package var segment: Int64
    package var offset: Int64
    package var count: Int
    package var crc32c: UInt32
}

/// The deltas under the file threshold, appended to segment files beside the database
/// (`<database>.blobs/segment-<n>.log`, docs/design.md 6). A group commit's deltas are
/// written with one `writev` straight from the buffers they arrived in and made durable
/// with one `fdatasync`, before the rows that name them commit: one copy (the kernel's)
/// and one sync, where a SQLite blob was copied into the page cache, checksummed into the
/// WAL and copied again into the database at the WAL checkpoint.
///
/// A record is a 16-byte header (the magic `SXD1`, the CRC-32C of the values, the value
/// count) and the little-endian Float32 values. The next segment begins when the current one
/// passes `segmentLimit` bytes, when a write failed (its tail is then unknown) and whenever
/// a store opens for writing (the tail a crash left is never appended to).
///
/// A segment no row names any more is kept as a spare (while the spares take at most
/// `spareBudget` bytes, the others are removed), and the next segment is written over it
/// from its start: on ext4 a sync after
/// writing past a file's end costs a journal commit (3-4 times the sync of the same bytes
/// written over a file's existing blocks on this project's host), which is why SQLite reuses
/// its WAL the same way. A row names a record only after it was written and synced, and a
/// spare is one no row names, so an old record a spare still holds is never read; the
/// server's scrub removes the spares when it ends. Sendable: its state is behind a mutex;
/// one process writes (the server), which the database's lock ensures.
package final class DeltaSegments: Sendable {
    /// The directory of the segments: the blob directory.
    let path: String
    /// From this many bytes on the current segment is closed and the next write begins another.
    let segmentLimit: Int64
    /// How many bytes the segments kept to be written over may take together.
    let spareBudget: Int64
    private let state = Mutex(State())

    private struct State {
        var current: Current?
        /// Segments no row names, oldest first, to be written over, with their sizes.
        var spares: [(number: Int64, bytes: Int64)] = []
        /// Segments this process closed that may still be named by rows: each becomes a
        /// spare (or is removed) once a check finds none.
        var closed: Set<Int64> = []
    }

    /// The segment appends go to: its number, its descriptor, the offset of its next
    /// record, and whether its name is new (the directory must then be synced).
    private struct Current {
        var number: Int64
        var descriptor: Int32
        var size: Int64
        var isNew: Bool
    }

    static let headerSize = 16
    /// "SXD1", little-endian.
    static let magic: UInt32 = 0x3144_5853

    init(path: String, segmentLimit: Int64 = 32 << 20, spareBudget: Int64 = 512 << 20) {
        self.path = path
        self.segmentLimit = segmentLimit
        self.spareBudget = spareBudget
    }

    deinit {
        state.withLock { state in
            if let descriptor = state.current?.descriptor { close(descriptor) }
        }
    }

    /// The file of segment `number`.
    package func filePath(segment number: Int64) -> String {
        "\(path)/segment-\(number).log"
    }

    /// The segment number of a file name of the directory, or nil if it names no segment.
    static func segmentNumber(fileName name: String) -> Int64? {
        guard name.hasPrefix("segment-"), name.hasSuffix(".log") else { return nil }
        return Int64(name.dropFirst("segment-".count).dropLast(".log".count))
    }

    /// The CRC-32C of `bytes`.
    static func crc32c(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        sextant_crc32c(0, bytes.baseAddress, bytes.count)
    }

    /// Appends one record per buffer and makes them durable (one `writev` of headers and
    /// values, one `fdatasync`; the directory is synced too when the segment is new).
    /// Returns where each went, in the order given. If it throws, nothing it wrote is named
    /// by any row, and the next append begins a new segment.
    func append(_ buffers: [UnsafeRawBufferPointer]) throws(StoreError) -> [SegmentRecord] {
        guard !buffers.isEmpty else { return [] }
        var headers = [UInt8](repeating: 0, count: buffers.count * Self.headerSize)
        var records: [SegmentRecord] = []
        records.reserveCapacity(buffers.count)
        return try state.withLock { (state: inout State) throws(StoreError) -> [SegmentRecord] in
            var segment: Current
            if let open = state.current { segment = open } else { segment = try openNext(&state.spares) }
            headers.withUnsafeMutableBytes { header in
                var offset = segment.size
                for (index, buffer) in buffers.enumerated() {
                    let crc = Self.crc32c(buffer)
                    let count = buffer.count / MemoryLayout<Float>.size
                    let at = index * Self.headerSize
                    header.storeBytes(of: Self.magic.littleEndian, toByteOffset: at, as: UInt32.self)
                    header.storeBytes(of: crc.littleEndian, toByteOffset: at + 4, as: UInt32.self)
                    header.storeBytes(of: UInt64(count).littleEndian, toByteOffset: at + 8, as: UInt64.self)
                    records.append(SegmentRecord(segment: segment.number, offset: offset, count: count, crc32c: crc))
                    offset += Int64(Self.headerSize + buffer.count)
                }
            }
            var error = headers.withUnsafeBytes { header in
                var pieces: [UnsafeRawBufferPointer] = []
                pieces.reserveCapacity(2 * buffers.count)
                for (index, buffer) in buffers.enumerated() {
                    pieces.append(
                        UnsafeRawBufferPointer(
                            rebasing: header[index * Self.headerSize..<(index + 1) * Self.headerSize]))
                    pieces.append(buffer)
                }
                return Self.writeAll(segment.descriptor, pieces, at: segment.size)
            }
            if error == 0, fdatasync(segment.descriptor) != 0 { error = errno }
            if error == 0, segment.isNew {
                do throws(StoreError) { try FileCalls.syncDirectory(path) } catch { try failed(error, &state, segment) }
                segment.isNew = false
            }
            guard error == 0 else {
                try failed(
                    storeFailure(
                        path: path, "append \(buffers.count) deltas to \(filePath(segment: segment.number))", error),
                    &state, segment)
            }
            segment.size =
                records.last.map { $0.offset + Int64(Self.headerSize + $0.count * MemoryLayout<Float>.size) }
                ?? segment.size
            if segment.size >= segmentLimit {
                close(segment.descriptor)
                state.current = nil
                state.closed.insert(segment.number)
            } else {
                state.current = segment
            }
            return records
        }
    }

    /// Closes a segment whose write failed, so that the next append begins another. One
    /// created for this write is removed: no row names it, and its name may not be durable,
    /// so it must not become a spare that a later write would count on.
    private func failed(_ error: StoreError, _ state: inout State, _ segment: Current) throws(StoreError) -> Never {
        close(segment.descriptor)
        state.current = nil
        if segment.isNew {
            unlink(filePath(segment: segment.number))
        } else {
            state.closed.insert(segment.number)
        }
        throw error
    }

    /// Opens the oldest spare to be written over from its start, or creates the segment
    /// after the highest one in the directory.
    private func openNext(_ spares: inout [(number: Int64, bytes: Int64)]) throws(StoreError) -> Current {
        while !spares.isEmpty {
            let spare = spares.removeFirst().number
            let fd = open(filePath(segment: spare), O_WRONLY | O_CLOEXEC)
            if fd >= 0 { return Current(number: spare, descriptor: fd, size: 0, isNew: false) }
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        var number = (names.compactMap(Self.segmentNumber).max() ?? 0) + 1
        while true {
            let fd = open(filePath(segment: number), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 { return Current(number: number, descriptor: fd, size: 0, isNew: true) }
            let error = errno
            guard error == EEXIST else {
                throw storeFailure(path: path, "create \(filePath(segment: number))", error)
            }
            number += 1
        }
    }

    /// The values of `record`, if its segment holds it whole with the header and CRC-32C its
    /// row records; otherwise what is wrong with it.
    func read(_ record: SegmentRecord) -> Result<[Float], BlobProblem> {
        let file = filePath(segment: record.segment)
        let fd: Int32
        switch FileCalls.openForReading(file, named: "its segment") {
        case .success(let opened): fd = opened
        case .failure(let problem): return .failure(problem)
        }
        defer { close(fd) }
        let place = "its record at byte \(record.offset) of \(file)"
        // The row is a claim too: the record must lie within the file before anything is
        // allocated for its values.
        var info = stat()
        let (bytes, overflow) = record.count.multipliedReportingOverflow(by: MemoryLayout<Float>.size)
        guard fstat(fd, &info) == 0, record.offset >= 0, record.count >= 0, !overflow,
            record.offset <= Int64(info.st_size) - Int64(Self.headerSize) - Int64(bytes)
        else {
            return .failure(
                BlobProblem("\(place) with \(record.count) values does not fit in the file's \(info.st_size) bytes"))
        }
        var header = [UInt8](repeating: 0, count: Self.headerSize)
        let headerError = header.withUnsafeMutableBytes { FileCalls.readAll(fd, $0, at: record.offset) }
        guard headerError == 0 else { return .failure(BlobProblem("\(place) cannot be read whole")) }
        let (magic, crc, count) = header.withUnsafeBytes { bytes in
            (
                UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self)),
                UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self)),
                UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            )
        }
        guard magic == Self.magic, crc == record.crc32c, count == UInt64(record.count) else {
            return .failure(BlobProblem("\(place) has a header that is not the one its row records"))
        }
        var readError: Int32 = 0
        let values = [Float](unsafeUninitializedCapacity: record.count) { buffer, initialized in
            readError = FileCalls.readAll(
                fd, UnsafeMutableRawBufferPointer(buffer), at: record.offset + Int64(Self.headerSize))
            initialized = record.count
        }
        guard readError == 0 else { return .failure(BlobProblem("\(place) cannot be read whole")) }
        let actual = values.withUnsafeBytes(Self.crc32c)
        guard actual == record.crc32c else {
            return .failure(BlobProblem("\(place) has CRC-32C \(actual), its row records \(record.crc32c)"))
        }
        return .success(values)
    }

    /// The segments that may have lost their last row: `numbers` and those closed since,
    /// but not the one appends go to or the spares.
    func candidates(_ numbers: Set<Int64>) -> Set<Int64> {
        state.withLock { state in
            let spares = Set(state.spares.map(\.number))
            return numbers.union(state.closed).filter { $0 != state.current?.number && !spares.contains($0) }
        }
    }

    /// Keeps as spares, or removes once the spares would take more than `spareBudget` bytes,
    /// the segments among `numbers` that `isReferenced` says no row names, except the one
    /// appends go to. Not synced: a removal a crash undoes leaves an orphan, which the next
    /// opening removes.
    func removeUnreferenced(_ numbers: Set<Int64>, isReferenced: (Int64) -> Bool) {
        state.withLock { state in
            for number in numbers.sorted()
            where number != state.current?.number && !state.spares.contains(where: { $0.number == number })
                && !isReferenced(number)
            {
                state.closed.remove(number)
                var info = stat()
                let bytes = stat(filePath(segment: number), &info) == 0 ? Int64(info.st_size) : spareBudget + 1
                if state.spares.reduce(0, { $0 + $1.bytes }) + bytes <= spareBudget {
                    state.spares.append((number, bytes))
                } else {
                    unlink(filePath(segment: number))
                }
            }
        }
    }

    /// The segments kept to be written over, oldest first.
    var spares: [Int64] {
        state.withLock { $0.spares.map(\.number) }
    }

    /// Closes the segment appends go to and forgets the spares (the scrub removes them); the
    /// next append begins another segment.
    func closeCurrent() {
        state.withLock { state in
            if let descriptor = state.current?.descriptor { close(descriptor) }
            state.current = nil
            state.spares = []
            state.closed = []
        }
    }

    /// Overwrites with zeros every byte of segment `number` outside `kept` (offset and byte
    /// count of the records rows still name) and syncs it: the records of applied updates
    /// are gone from a segment that must stay for the pending ones. Returns how many bytes it zeroed.
    func zero(segment number: Int64, keeping kept: [(offset: Int64, bytes: Int64)]) throws(StoreError) -> Int64 {
        let file = filePath(segment: number)
        let fd = open(file, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw storeFailure(path: path, "open \(file)", errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw storeFailure(path: path, "read the size of \(file)", errno) }
        var gaps: [(from: Int64, to: Int64)] = []
        var position: Int64 = 0
        for range in kept.sorted(by: { $0.offset < $1.offset }) {
            if range.offset > position { gaps.append((position, range.offset)) }
            position = max(position, range.offset + range.bytes)
        }
        if Int64(info.st_size) > position { gaps.append((position, Int64(info.st_size))) }
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        var zeroed: Int64 = 0
        for gap in gaps {
            var at = gap.from
            while at < gap.to {
                let length = Int(min(Int64(zeros.count), gap.to - at))
                let error = zeros.withUnsafeBytes {
                    Self.writeAll(fd, [UnsafeRawBufferPointer(rebasing: $0[0..<length])], at: at)
                }
                guard error == 0 else { throw storeFailure(path: path, "zero \(file)", error) }
                at += Int64(length)
            }
            zeroed += gap.to - gap.from
        }
        guard fdatasync(fd) == 0 else { throw storeFailure(path: path, "sync \(file)", errno) }
        return zeroed
    }

    // MARK: - System calls

    /// Most vectors one `pwritev` takes (IOV_MAX on Linux).
    private static let vectorsPerCall = 1024

    /// Writes `pieces` one after another from byte `offset` on, with as few `pwritev` calls
    /// as the kernel allows; returns 0 or the errno.
    private static func writeAll(_ fd: Int32, _ pieces: [UnsafeRawBufferPointer], at offset: Int64) -> Int32 {
        var vectors = pieces.filter { $0.count > 0 }.map {
            iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count)
        }
        var position = offset
        var first = 0
        while first < vectors.count {
            let batch = min(vectors.count - first, Self.vectorsPerCall)
            let written = vectors.withUnsafeBufferPointer {
                pwritev(fd, $0.baseAddress! + first, Int32(batch), off_t(position))
            }
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            if written == 0 { return EIO }
            position += Int64(written)
            var remaining = written
            while remaining > 0, first < vectors.count {
                if remaining >= vectors[first].iov_len {
                    remaining -= vectors[first].iov_len
                    first += 1
                } else {
                    vectors[first].iov_base += remaining
                    vectors[first].iov_len -= remaining
                    remaining = 0
                }
            }
        }
        return 0
    }

}
