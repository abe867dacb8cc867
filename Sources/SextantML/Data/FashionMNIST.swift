import Foundation

/// Fashion-MNIST from its IDX files (Debian's `dataset-fashion-mnist` installs them).
package enum FashionMNIST {
    package static let defaultDirectory = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")
    package static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]
    /// Statistics of the training images scaled to [0, 1], used for both splits.
    package static let normalization = Normalization(mean: 0.2860, standardDeviation: 0.3530)

    package enum Split: String, Sendable {
        case train
        case test

        var prefix: String { self == .train ? "train" : "t10k" }
    }

    /// Loads one split, pixels scaled to [0, 1] then standardised with ``normalization``.
    package static func load(_ split: Split, from directory: URL = defaultDirectory, limit: Int? = nil) throws
        -> Dataset
    {
        if let limit, limit < 0 {
            throw SextantMLError(code: .invalidArgument, "example limit must not be negative, got \(limit)")
        }
        return try load(split, from: directory) { count in Array(0..<min(limit ?? count, count)) }
    }

    /// Only the labels of a split, for partitioning without converting any image.
    package static func labels(_ split: Split, from directory: URL = defaultDirectory) throws -> [Int32] {
        try checkDirectory(directory)
        let labels = try IDXReader.read(contentsOf: file(split.prefix + "-labels-idx1-ubyte", in: directory))
        guard labels.dimensions.count == 1 else {
            throw SextantMLError(code: .corruptData, "Fashion-MNIST \(split.rawValue): expected 1-D labels")
        }
        return labels.values.map { Int32($0) }
    }

    /// Loads the examples at `indices` only: a client converts its own partition and
    /// nothing else, so that hundreds of clients fit on one host.
    package static func load(_ split: Split, from directory: URL = defaultDirectory, indices: [Int]) throws -> Dataset {
        try load(split, from: directory) { count in
            if let bad = indices.first(where: { $0 < 0 || $0 >= count }) {
                throw SextantMLError(code: .invalidArgument, "example index \(bad) is outside 0..<\(count)")
            }
            return indices
        }
    }

    private static func checkDirectory(_ directory: URL) throws {
        guard FileManager.default.fileExists(atPath: directory.path) else {
            throw SextantMLError(
                code: .fileNotFound,
                "Fashion-MNIST directory \(directory.path) does not exist (install Debian's dataset-fashion-mnist package)"
            )
        }
    }

    private static func load(_ split: Split, from directory: URL, selecting select: (Int) throws -> [Int]) throws
        -> Dataset
    {
        try checkDirectory(directory)
        let images = try IDXReader.read(contentsOf: file(split.prefix + "-images-idx3-ubyte", in: directory))
        let labels = try IDXReader.read(contentsOf: file(split.prefix + "-labels-idx1-ubyte", in: directory))
        guard images.dimensions.count == 3, labels.dimensions.count == 1 else {
            throw SextantMLError(
                code: .corruptData, "Fashion-MNIST \(split.rawValue): expected 3-D images and 1-D labels")
        }
        guard images.dimensions[0] == labels.dimensions[0] else {
            throw SextantMLError(
                code: .corruptData,
                "Fashion-MNIST \(split.rawValue): \(images.dimensions[0]) images but \(labels.dimensions[0]) labels")
        }
        if let bad = labels.values.first(where: { $0 >= 10 }) {
            throw SextantMLError(code: .corruptData, "Fashion-MNIST \(split.rawValue): label \(bad) is not in 0...9")
        }
        let chosen = try select(images.dimensions[0])
        let pixels = images.dimensions[1] * images.dimensions[2]
        let shape = FeatureShape(channels: 1, height: images.dimensions[1], width: images.dimensions[2])
        var features = [Float]()
        features.reserveCapacity(chosen.count * pixels)
        images.values.withUnsafeBufferPointer { bytes in
            for index in chosen {
                for p in (index * pixels)..<((index + 1) * pixels) { features.append(Float(bytes[p]) / 255) }
            }
        }
        var dataset = Dataset(
            shape: shape, classCount: 10, features: features, labels: chosen.map { Int32(labels.values[$0]) })
        normalization.apply(to: &dataset)
        return dataset
    }

    /// The file itself, or its `.gz` form.
    private static func file(_ name: String, in directory: URL) -> URL {
        let plain = directory.appendingPathComponent(name)
        let compressed = directory.appendingPathComponent(name + ".gz")
        return FileManager.default.fileExists(atPath: plain.path) ? plain : compressed
    }
}
