import Foundation

/// A site's array data: a features array of one record per row (N x F, N x H x W, or images
/// as N x C x H x W or N x H x W x C) and a labels array of N values, from an `.npz`, two
/// `.npy` files side by side, or IDX image and label files.
struct SiteArrays: Sendable {
    let name: String
    let features: NumPyArray
    let labels: NumPyArray
    /// One record's shape as the model reads it (channels first).
    let recordShape: FeatureShape
    /// Whether the file stores channels last.
    let channelsLast: Bool
    /// The labels array's name (the target's name in the pipeline).
    var labelsName = "labels"

    /// Reads the arrays that `url` names: an `.npz` holds both; an `.npy` is the features, its
    /// labels the `.npy` beside it named by `labelsArray` (default `y.npy`, or `labels.npy`);
    /// an IDX images file's labels are the file whose name has `labels-idx1` for `images-idx3`.
    init(contentsOf url: URL, options: SiteDataOptions) throws {
        func read(_ url: URL) throws -> [UInt8] {
            guard let data = FileManager.default.contents(atPath: url.path) else {
                let exists = FileManager.default.fileExists(atPath: url.path)
                throw SextantMLError(
                    code: .fileNotFound, exists ? "\(url.path): cannot read the file" : "\(url.path): no such file")
            }
            return [UInt8](data)
        }
        let name = url.lastPathComponent
        switch url.pathExtension.lowercased() {
        case "npz":
            let archive = try NPZArchive(bytes: read(url), name: name)
            func pick(_ configured: String?, _ defaults: [String]) -> String {
                configured ?? defaults.first(where: archive.names.contains) ?? defaults[0]
            }
            let labelsName = pick(options.labelsArray, ["y", "labels"])
            try self.init(
                name: name, features: archive.array(pick(options.featuresArray, ["x", "features"])),
                labels: archive.array(labelsName), layout: options.layout)
            self.labelsName = labelsName
        case "npy":
            let directory = url.deletingLastPathComponent()
            let labelsName =
                options.labelsArray
                ?? (FileManager.default.fileExists(atPath: directory.appendingPathComponent("y.npy").path)
                    ? "y"
                    : FileManager.default.fileExists(atPath: directory.appendingPathComponent("labels.npy").path)
                        ? "labels" : "y")
            let labelsURL = directory.appendingPathComponent(labelsName + ".npy")
            try self.init(
                name: name, features: NumPyArray.parse(read(url), name: name),
                labels: NumPyArray.parse(read(labelsURL), name: labelsURL.lastPathComponent), layout: options.layout)
            self.labelsName = labelsName
        default:
            guard name.contains("images-idx3") else {
                throw SextantMLError(
                    code: .unsupportedFormat,
                    "\(url.path): an IDX images file is named like train-images-idx3-ubyte.gz, its labels train-labels-idx1-ubyte.gz"
                )
            }
            let labelsURL = url.deletingLastPathComponent().appendingPathComponent(
                name.replacingOccurrences(of: "images-idx3", with: "labels-idx1"))
            func array(_ url: URL) throws -> NumPyArray {
                let idx = try IDXReader.read(contentsOf: url)
                return NumPyArray(shape: idx.dimensions, dataType: .uint8, values: idx.values.map(Float.init))
            }
            try self.init(name: name, features: array(url), labels: array(labelsURL), layout: options.layout)
        }
    }

    init(name: String, features: NumPyArray, labels: NumPyArray, layout: SiteDataOptions.Layout?) throws {
        func fail(_ problem: String) -> SextantMLError { SextantMLError(code: .corruptData, "\(name): \(problem)") }
        self.name = name
        self.features = features
        self.labels = labels
        let shape = features.shape
        guard shape.count >= 2, shape.count <= 4 else {
            throw fail(
                "the features array has shape \(shape); it needs one record per row: N x features, N x H x W or images N x C x H x W / N x H x W x C"
            )
        }
        guard labels.shape.count == 1 || (labels.shape.count == 2 && labels.shape[1] == 1) else {
            throw fail("the labels array has shape \(labels.shape); it needs one label per record (N or N x 1)")
        }
        guard labels.shape[0] == shape[0] else {
            throw fail("the features array holds \(shape[0]) records, the labels array \(labels.shape[0])")
        }
        switch shape.count {
        case 2:
            (recordShape, channelsLast) = (FeatureShape(channels: shape[1]), false)
        case 3:
            (recordShape, channelsLast) = (FeatureShape(channels: 1, height: shape[1], width: shape[2]), false)
        default:
            let (a, b, c) = (shape[1], shape[2], shape[3])
            let channelCounts = [1, 3]
            let resolved: SiteDataOptions.Layout
            if let layout {
                resolved = layout
            } else if channelCounts.contains(c) && !channelCounts.contains(a) {
                resolved = .nhwc
            } else if channelCounts.contains(a) && !channelCounts.contains(c) {
                resolved = .nchw
            } else {
                throw fail(
                    "cannot tell whether images of shape \(shape) are channels first or last: set data.layout to nchw or nhwc"
                )
            }
            channelsLast = resolved == .nhwc
            recordShape =
                channelsLast
                ? FeatureShape(channels: c, height: a, width: b) : FeatureShape(channels: a, height: b, width: c)
        }
        if let bad = features.values.firstIndex(where: { !$0.isFinite }) {
            throw fail(
                "record \(bad / max(recordShape.count, 1) + 1) holds a value that is not finite (NaN or infinity)")
        }
    }

    /// Calls `body(channel, value)` for every value of record `record`.
    @inline(__always)
    private func forEachValue(ofRecord record: Int, _ body: (Int, Float) -> Void) {
        let width = recordShape.count
        let channels = recordShape.channels
        let plane = recordShape.height * recordShape.width
        features.values.withUnsafeBufferPointer { values in
            let base = record * width
            for k in 0..<width {
                body(channelsLast ? k % channels : k / plane, values[base + k])
            }
        }
    }

    private func className(_ value: Float, record: Int) throws -> String {
        guard value == value.rounded() else {
            throw SextantMLError(
                code: .corruptData,
                "\(name): record \(record + 1): label \(value) is not a whole number (a regression target needs model task regression)"
            )
        }
        return String(Int(value))
    }

    func statistics(task: TaskSpec.Kind) throws -> SiteStatistics {
        let count = labels.shape[0]
        guard count > 0 else { throw SextantMLError(code: .corruptData, "\(name): the arrays hold no records") }
        var channels = [NumericAccumulator](repeating: NumericAccumulator(), count: recordShape.channels)
        for record in 0..<count {
            forEachValue(ofRecord: record) { channel, value in channels[channel].add(Double(value)) }
        }
        let label: SiteStatistics.LabelStatistics
        if task == .regression {
            var values = NumericAccumulator()
            for value in labels.values { values.add(Double(value)) }
            label = .init(name: labelsName, values: values.result)
        } else {
            var classes: [String: Int] = [:]
            for (record, value) in labels.values.enumerated() {
                classes[try className(value, record: record), default: 0] += 1
                guard classes.count <= SiteStatistics.maximumClasses else {
                    throw SextantMLError(
                        code: .corruptData,
                        "\(name): more than \(SiteStatistics.maximumClasses) distinct labels: is this a regression target (model task regression)?"
                    )
                }
            }
            label = .init(name: labelsName, classCounts: classes)
        }
        return SiteStatistics(
            recordCount: count, columns: [], label: label, arrayShape: recordShape, channels: channels.map(\.result))
    }

    func dataset(pipeline: FeaturePipeline) throws -> Dataset {
        guard pipeline.arrayShape == recordShape else {
            throw SextantMLError(
                code: .corruptData,
                "\(name): records have shape \(recordShape), the federation's \(pipeline.arrayShape.map { "\($0)" } ?? "are table rows")"
            )
        }
        let count = labels.shape[0]
        let width = recordShape.count
        let plane = recordShape.height * recordShape.width
        let transforms =
            pipeline.arrayScaling.isEmpty
            ? [FeaturePipeline.NumericTransform](repeating: .identity, count: recordShape.channels)
            : pipeline.arrayScaling
        var output = [Float](repeating: 0, count: count * width)
        output.withUnsafeMutableBufferPointer { out in
            for record in 0..<count {
                var k = 0
                forEachValue(ofRecord: record) { channel, value in
                    // Channels first in the output: channel, then position in the plane.
                    let position = channelsLast ? k / recordShape.channels : k % plane
                    out[record * width + channel * plane + position] = transforms[channel].apply(value)
                    k += 1
                }
            }
        }
        let classes = pipeline.target.classes
        if classes.isEmpty {
            let transform = pipeline.target.transform
            var dataset = Dataset(
                shape: recordShape, features: output,
                targets: transform.map { t in labels.values.map(t.apply) } ?? labels.values)
            dataset.targetTransform = transform
            return dataset
        }
        let classIndex = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, Int32($0)) })
        var labelIndices: [Int32] = []
        labelIndices.reserveCapacity(count)
        for (record, value) in labels.values.enumerated() {
            let label = try className(value, record: record)
            guard let index = classIndex[label] else {
                throw SextantMLError(
                    code: .corruptData,
                    "\(name): record \(record + 1): label \(label) is outside the agreed classes (\(SiteStatistics.list(classes)))"
                )
            }
            labelIndices.append(index)
        }
        return Dataset(shape: recordShape, classCount: classes.count, features: output, labels: labelIndices)
    }
}
