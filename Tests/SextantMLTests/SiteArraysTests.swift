import Foundation
import SextantML
import SextantTestSupport
import Testing

/// The files Tests/Fixtures/arrays/make_arrays.py writes with NumPy.
private func fixture(_ name: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/arrays/\(name)").standardizedFileURL
}

@Suite("Site data: NumPy arrays")
struct SiteArraysTests {
    private func fitted(_ site: SiteData, scaling: FeaturePipeline.NumericTransform.Scaling = .none) throws
        -> FeaturePipeline
    {
        try FeaturePipeline.fit(
            statistics: site.statistics(task: .classification), options: SiteDataOptions(scaling: scaling),
            task: .classification)
    }

    @Test func bothImageLayoutsGiveTheSameRecords() throws {
        // Deflated, channels last, arrays x and y; stored, channels first, features and labels.
        let last = try SiteData(contentsOf: fixture("images_nhwc.npz"), options: .init(scaling: .none))
        let first = try SiteData(contentsOf: fixture("images_nchw.npz"), options: .init(scaling: .none))
        let pipeline = try fitted(last)
        #expect(pipeline.arrayShape == FeatureShape(channels: 3, height: 2, width: 2))
        #expect(pipeline.target.classes == ["0", "1", "2"])
        let a = try last.dataset(pipeline: pipeline)
        let b = try first.dataset(pipeline: pipeline)
        #expect(a.features == b.features)
        #expect(a.labels == [0, 1, 2, 1] && b.labels == a.labels)
        // Record 0 channels last is 0...11 with channel = value % 3: channel 0 holds 0, 3, 6, 9.
        #expect(Array(a.features[0..<4]) == [0, 3, 6, 9])
        // An explicit layout that contradicts the file is read as told.
        let forced = try SiteData(contentsOf: fixture("images_nhwc.npz"), options: .init(layout: .nchw))
        #expect(
            try forced.statistics(task: .classification).arrayShape == FeatureShape(channels: 2, height: 2, width: 3))
    }

    @Test func perChannelStatisticsAndStandardisation() throws {
        let site = try SiteData(contentsOf: fixture("images_nhwc.npz"), options: .init())
        let statistics = try site.statistics(task: .classification)
        #expect(statistics.channels.count == 3)
        // Channel 0: 0, 3, ..., 45 (16 values): sum 360.
        #expect(statistics.channels[0].count == 16 && statistics.channels[0].sum == 360)
        try statistics.validate()
        let pipeline = try fitted(site, scaling: .standardize)
        let dataset = try site.dataset(pipeline: pipeline)
        let channel0 = (0..<4).flatMap { r in dataset.features[(r * 12)..<(r * 12 + 4)] }
        let mean = channel0.reduce(0, +) / 16
        let variance = channel0.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 16
        #expect(abs(mean) < 1e-5 && abs(variance - 1) < 1e-5)
        #expect(try SiteStatistics.merged([statistics, statistics]).channels[0].count == 32)
    }

    @Test func npyVersion2FloatTable() throws {
        let bytes = try [UInt8](Data(contentsOf: fixture("table_v2.npy")))
        let array = try NumPyArray.parse(bytes, name: "t.npy")
        #expect(array.shape == [3, 2] && array.dataType == .float64)
        #expect(array.values == [1.5, -2, 3, 4.25, 0, 1])
        let site = try SiteData(
            features: array, labels: NumPyArray(shape: [3], dataType: .float32, values: [0.5, 1, 2]), name: "t",
            options: .init(scaling: .none))
        let pipeline = try FeaturePipeline.fit(
            statistics: site.statistics(task: .regression), options: .init(scaling: .none), task: .regression)
        #expect(pipeline.inputShape == FeatureShape(channels: 2))
        #expect(try site.dataset(pipeline: pipeline).targets == [0.5, 1, 2])
    }

    @Test func handWrittenVersion1Header() throws {
        var header = Array("{'descr': '<i2', 'fortran_order': False, 'shape': (2, 2), }".utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        let bytes: [UInt8] =
            [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header
            + [1, 0, 0xFF, 0xFF, 0x00, 0x80, 7, 0]
        let array = try NumPyArray.parse(bytes, name: "h.npy")
        #expect(array.values == [1, -1, -32768, 7])
        expectMLError(.corruptData, containing: ["h.npy", "announces 4 values"]) {
            try NumPyArray.parse(Array(bytes.dropLast()), name: "h.npy")
        }
    }

    // MARK: - Bad input, one line each

    @Test func anNpzMissingAnArray() {
        expectMLError(.corruptData, containing: ["only_x.npz has no array 'y'", "it holds 'x'", "data.labels_array"]) {
            try SiteData(contentsOf: fixture("only_x.npz"), options: .init())
        }
        expectMLError(.corruptData, containing: ["images_nhwc.npz has no array 'pixels'"]) {
            try SiteData(contentsOf: fixture("images_nhwc.npz"), options: .init(featuresArray: "pixels"))
        }
    }

    @Test(arguments: [
        ("fortran.npy", "Fortran order"), ("big_endian.npy", "dtype '>f4' is not supported"),
        ("strings.npy", "dtype '<U1' is not supported"),
    ])
    func unsupportedArrays(_ file: String, _ problem: String) throws {
        let bytes = try [UInt8](Data(contentsOf: fixture(file)))
        expectMLError(.unsupportedFormat, containing: [file, problem]) { try NumPyArray.parse(bytes, name: file) }
    }

    @Test func labelsOutsideTheClassesAndMismatchedShapes() throws {
        let site = try SiteData(contentsOf: fixture("images_nhwc.npz"), options: .init())
        var pipeline = try fitted(site)
        pipeline.target.classes = ["0", "1"]
        expectMLError(
            .corruptData, containing: ["images_nhwc.npz", "record 3", "label 2 is outside the agreed classes"]
        ) {
            try site.dataset(pipeline: pipeline)
        }
        pipeline.arrayShape = FeatureShape(channels: 1, height: 28, width: 28)
        expectMLError(.corruptData, containing: ["records have shape", "1x28x28"]) {
            try site.dataset(pipeline: pipeline)
        }
        let features = NumPyArray(shape: [2, 3], dataType: .float32, values: [1, 2, 3, 4, 5, 6])
        expectMLError(.corruptData, containing: ["holds 2 records, the labels array 3"]) {
            try SiteData(
                features: features, labels: NumPyArray(shape: [3], dataType: .int64, values: [0, 1, 0]), name: "m",
                options: .init())
        }
        let ambiguous = NumPyArray(shape: [1, 3, 2, 3], dataType: .float32, values: Array(repeating: 0, count: 18))
        expectMLError(.corruptData, containing: ["data.layout"]) {
            try SiteData(
                features: ambiguous, labels: NumPyArray(shape: [1], dataType: .int64, values: [0]), name: "m",
                options: .init())
        }
        let halves = try SiteData(
            features: features, labels: NumPyArray(shape: [2], dataType: .float32, values: [0.5, 1]), name: "m",
            options: .init())
        expectMLError(.corruptData, containing: ["label 0.5 is not a whole number"]) {
            try halves.statistics(task: .classification)
        }
    }
}
