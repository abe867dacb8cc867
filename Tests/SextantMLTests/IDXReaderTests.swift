import Foundation
import SextantML
import SextantTestSupport
import Testing

/// An IDX file of unsigned bytes: magic 0 0 8 rank, big-endian dimensions, then the values.
func idxBytes(dimensions: [Int], values: [UInt8], elementType: UInt8 = 0x08) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, elementType, UInt8(dimensions.count)]
    for d in dimensions {
        bytes += [
            UInt8(truncatingIfNeeded: d >> 24), UInt8(truncatingIfNeeded: d >> 16), UInt8(truncatingIfNeeded: d >> 8),
            UInt8(truncatingIfNeeded: d),
        ]
    }
    return bytes + values
}

/// `bytes` compressed by the system's gzip (run through Process, as a real `.gz` file is made).
func gzipped(_ bytes: [UInt8]) throws -> [UInt8] {
    try TemporaryDirectory.with(prefix: "sextant-ml-gzip") { directory in
        let file = directory.appendingPathComponent("data")
        try Data(bytes).write(to: file)
        let process = Process()
        process.executableURL = URL(
            fileURLWithPath: FileManager.default.fileExists(atPath: "/bin/gzip") ? "/bin/gzip" : "/usr/bin/gzip")
        process.arguments = ["-n", "-9", file.path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw SextantMLError(code: .invalidArgument, "gzip failed") }
        return [UInt8](try Data(contentsOf: directory.appendingPathComponent("data.gz")))
    }
}

/// Runs `body`, expecting a SextantMLError with `code` whose message contains every one of `fragments`.
func expectMLError<T>(
    _ code: SextantMLError.Code, containing fragments: [String], sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> T
) {
    do {
        _ = try body()
        Issue.record("expected a \(code) error, got success", sourceLocation: sourceLocation)
    } catch let error as SextantMLError {
        #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(
                error.message.contains(fragment), "'\(error.message)' does not mention '\(fragment)'",
                sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}

/// 2 x 2 x 3 values 0, 10, ..., 110.
private let smallValues: [UInt8] = (0..<12).map { UInt8($0 * 10) }
private let smallFile = idxBytes(dimensions: [2, 2, 3], values: smallValues)

/// A larger pseudo-random payload, so that truncating or corrupting its gzip form hits the deflate stream.
private let largeValues: [UInt8] = {
    var generator = SeededGenerator(seed: 1)
    return (0..<(4 * 20 * 30)).map { _ in UInt8.random(in: 0...15, using: &generator) }
}()
private let largeFile = idxBytes(dimensions: [4, 20, 30], values: largeValues)

@Suite("IDX reader")
struct IDXReaderTests {
    @Test func parsesHandBuiltFile() throws {
        #expect(smallFile.prefix(8) == [0, 0, 8, 3, 0, 0, 0, 2])
        let array = try IDXReader.parse(smallFile, name: "small.idx")
        #expect(array.dimensions == [2, 2, 3])
        #expect(array.values == smallValues)
        let vector = try IDXReader.parse(idxBytes(dimensions: [3], values: [7, 8, 9]), name: "labels")
        #expect(vector.dimensions == [3])
        #expect(vector.values == [7, 8, 9])
    }

    @Test func parsesGzipCompressedFile() throws {
        for (file, dimensions, values) in [
            (smallFile, [2, 2, 3], smallValues), (largeFile, [4, 20, 30], largeValues),
        ] {
            let compressed = try gzipped(file)
            #expect(compressed.prefix(2) == [0x1F, 0x8B])
            let array = try IDXReader.parse(compressed, name: "data.gz")
            #expect(array.dimensions == dimensions)
            #expect(array.values == values)
        }
    }

    @Test func readsFilesFromDisk() throws {
        let directory = try TemporaryDirectory()
        let plain = try directory.write(smallFile, to: "small-idx3-ubyte")
        let compressed = try directory.write(try gzipped(largeFile), to: "large-idx3-ubyte.gz")
        #expect(try IDXReader.read(contentsOf: plain).values == smallValues)
        #expect(try IDXReader.read(contentsOf: compressed).dimensions == [4, 20, 30])
        let missing = directory.url(for: "absent-idx1-ubyte")
        expectMLError(.fileNotFound, containing: ["absent-idx1-ubyte", "no such file"]) {
            try IDXReader.read(contentsOf: missing)
        }
    }

    @Test func rejectsWrongMagic() {
        var bytes = smallFile
        bytes[0] = 0x12
        expectMLError(.unsupportedFormat, containing: ["bad.idx", "magic"]) {
            try IDXReader.parse(bytes, name: "bad.idx")
        }
        expectMLError(.unsupportedFormat, containing: ["empty.idx"]) { try IDXReader.parse([], name: "empty.idx") }
        expectMLError(.unsupportedFormat, containing: ["short.idx"]) { try IDXReader.parse([0, 0], name: "short.idx") }
    }

    @Test func rejectsUnsupportedElementType() {
        // 0x0D is float32 in the IDX format.
        let bytes = idxBytes(dimensions: [3], values: [0, 0, 0], elementType: 0x0D)
        expectMLError(.unsupportedFormat, containing: ["floats.idx", "0xd"]) {
            try IDXReader.parse(bytes, name: "floats.idx")
        }
    }

    @Test func rejectsTruncatedHeader() {
        // Rank 3 announces 12 bytes of dimensions; only 4 follow.
        let bytes: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 2]
        expectMLError(.corruptData, containing: ["cut.idx", "header"]) { try IDXReader.parse(bytes, name: "cut.idx") }
        // Rank 0 has no dimensions at all.
        expectMLError(.corruptData, containing: ["rank0.idx"]) { try IDXReader.parse([0, 0, 8, 0], name: "rank0.idx") }
    }

    @Test func rejectsDataOfTheWrongLength() {
        expectMLError(.corruptData, containing: ["short.idx", "12", "11"]) {
            try IDXReader.parse(Array(smallFile.dropLast()), name: "short.idx")
        }
        expectMLError(.corruptData, containing: ["long.idx", "12", "13"]) {
            try IDXReader.parse(smallFile + [0], name: "long.idx")
        }
        expectMLError(.corruptData, containing: ["nodata.idx"]) {
            try IDXReader.parse(Array(smallFile.prefix(16)), name: "nodata.idx")
        }
    }

    @Test func rejectsHugeDimensionsWithoutCrashing() {
        // Three dimensions of 2^32 - 1: their product overflows Int; a corrupt header must
        // give an error, not trap.
        let bytes: [UInt8] = [0, 0, 8, 3] + [UInt8](repeating: 0xFF, count: 12) + [1, 2, 3]
        expectMLError(.corruptData, containing: ["huge.idx"]) { try IDXReader.parse(bytes, name: "huge.idx") }
    }

    @Test func rejectsTruncatedGzip() throws {
        let compressed = try gzipped(largeFile)
        for length in [compressed.count / 2, compressed.count - 9, 12] {
            expectMLError(.corruptData, containing: ["cut.gz", "truncated"]) {
                try IDXReader.parse(Array(compressed.prefix(length)), name: "cut.gz")
            }
        }
    }

    @Test func rejectsCorruptGzip() throws {
        let compressed = try gzipped(largeFile)
        // A flipped byte in the deflate data, in the CRC-32 trailer, and a broken header.
        var middle = compressed
        middle[compressed.count / 2] ^= 0xFF
        var checksum = compressed
        checksum[compressed.count - 6] ^= 0x01
        var header = compressed
        header[2] = 0x07  // compression method other than deflate
        for (bytes, what) in [(middle, "data"), (checksum, "checksum"), (header, "header")] {
            do {
                let array = try IDXReader.parse(bytes, name: "bad.gz")
                Issue.record("corrupt gzip (\(what)) parsed as \(array.dimensions)")
            } catch let error as SextantMLError {
                #expect(error.code == .corruptData, "\(what): \(error.message)")
                #expect(error.message.contains("bad.gz"))
                #expect(error.message.contains("decompress"))
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }
}

@Suite("Fashion-MNIST")
struct FashionMNISTTests {
    static let hasDataset =
        FileManager.default.fileExists(
            atPath: FashionMNIST.defaultDirectory.appendingPathComponent("t10k-labels-idx1-ubyte.gz").path)
        || FileManager.default.fileExists(
            atPath: FashionMNIST.defaultDirectory.appendingPathComponent("t10k-labels-idx1-ubyte").path)

    @Test func missingDirectoryNamesThePackage() {
        let missing = URL(fileURLWithPath: "/nonexistent/sextant-\(UUID().uuidString)")
        expectMLError(.fileNotFound, containing: [missing.path, "dataset-fashion-mnist"]) {
            try FashionMNIST.load(.test, from: missing)
        }
    }

    @Test func missingFileInExistingDirectory() throws {
        let directory = try TemporaryDirectory()
        expectMLError(.fileNotFound, containing: ["t10k-images-idx3-ubyte"]) {
            try FashionMNIST.load(.test, from: directory.url)
        }
    }

    @Test func loadsHandBuiltSplit() throws {
        // Three 2x2 images (one plain, one gzip file) with labels 9, 0, 4.
        let directory = try TemporaryDirectory()
        let pixels: [UInt8] = [0, 255, 51, 102, 255, 255, 0, 0, 1, 2, 3, 4]
        try directory.write(idxBytes(dimensions: [3, 2, 2], values: pixels), to: "train-images-idx3-ubyte")
        try directory.write(
            try gzipped(idxBytes(dimensions: [3], values: [9, 0, 4])), to: "train-labels-idx1-ubyte.gz")
        let dataset = try FashionMNIST.load(.train, from: directory.url)
        #expect(dataset.shape == FeatureShape(channels: 1, height: 2, width: 2))
        #expect(dataset.labels == [9, 0, 4])
        #expect(dataset.classCount == 10)
        let n = FashionMNIST.normalization
        for (feature, pixel) in zip(dataset.features, pixels) {
            #expect(abs(feature - (Float(pixel) / 255 - n.mean) / n.standardDeviation) < 1e-5)
        }
        let limited = try FashionMNIST.load(.train, from: directory.url, limit: 2)
        #expect(limited.count == 2)
        #expect(limited.features == Array(dataset.features.prefix(8)))
    }

    @Test func rejectsInconsistentSplit() throws {
        let directory = try TemporaryDirectory()
        try directory.write(idxBytes(dimensions: [2, 1, 1], values: [0, 1]), to: "t10k-images-idx3-ubyte")
        try directory.write(idxBytes(dimensions: [3], values: [1, 2, 3]), to: "t10k-labels-idx1-ubyte")
        expectMLError(.corruptData, containing: ["2 images", "3 labels"]) {
            try FashionMNIST.load(.test, from: directory.url)
        }
        try directory.write(idxBytes(dimensions: [2], values: [1, 10]), to: "t10k-labels-idx1-ubyte")
        expectMLError(.corruptData, containing: ["label 10"]) { try FashionMNIST.load(.test, from: directory.url) }
        try directory.write(idxBytes(dimensions: [2, 1], values: [1, 1]), to: "t10k-labels-idx1-ubyte")
        expectMLError(.corruptData, containing: ["1-D labels"]) { try FashionMNIST.load(.test, from: directory.url) }
    }

    @Test(
        .enabled(
            if: FashionMNISTTests.hasDataset, "Fashion-MNIST is not installed in /usr/share/datasets/fashion-mnist"))
    func loadsInstalledTestSplit() throws {
        let dataset = try FashionMNIST.load(.test, limit: 100)
        #expect(dataset.shape == FeatureShape(channels: 1, height: 28, width: 28))
        #expect(dataset.count == 100)
        #expect(dataset.features.count == 100 * 784)
        #expect(dataset.labels.allSatisfy { (0..<10).contains($0) })
        #expect(Set(dataset.labels).count > 5)
        let mean = dataset.features.reduce(0.0) { $0 + Double($1) } / Double(dataset.features.count)
        #expect((-1...1).contains(mean), "mean \(mean)")
        // Pixels in [0, 1] map to [-0.81, 2.02] under the fixed normalisation.
        #expect(dataset.features.allSatisfy { $0 >= -0.82 && $0 <= 2.03 })
    }
}
