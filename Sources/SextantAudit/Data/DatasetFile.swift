import Foundation
import SextantML

/// Reads and writes datasets with subject ids: the partitions and audit sets the subject
/// generator writes.
///
/// Two formats, chosen by the file's extension:
/// - `.csv`: a header row `f0,f1,...,label,subject`, then one row per record (tabular data;
///   `CSVReader(labelColumn: "label", subjectColumn: "subject")` reads it).
/// - anything else (`.sxd` by convention): a compact little-endian binary file,
///
///       bytes 0..<8   magic "SXTDATA1"
///       UInt32        channels, height, width (the feature shape)
///       UInt32        class count
///       UInt64        record count n
///       UInt8         1 if subject ids follow, else 0
///       Float32 x n*channels*height*width   features, row-major, record after record
///       Int32 x n                           labels
///       Int32 x n                           subject ids (if flagged)
package enum DatasetFile {
    package static let magic = Data("SXTDATA1".utf8)

    /// Writes `dataset` in the format its extension selects.
    package static func write(_ dataset: Dataset, to url: URL) throws {
        let data = url.pathExtension.lowercased() == "csv" ? csv(dataset) : binary(dataset)
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw AuditError(.invalidFile, "\(url.path): cannot write (\(error.localizedDescription))")
        }
    }

    /// Reads a dataset written by ``write(_:to:)`` (or any CSV with `label` and `subject` columns).
    package static func read(from url: URL) throws -> Dataset {
        if url.pathExtension.lowercased() == "csv" {
            do {
                return try CSVReader(labelColumn: "label", subjectColumn: "subject").read(contentsOf: url)
            } catch let error as SextantMLError {
                throw AuditError(.invalidFile, error.message)
            }
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw AuditError(.invalidFile, "\(url.path): no such file or it cannot be read")
        }
        return try decode(data, name: url.path)
    }

    /// The binary form of `dataset`.
    package static func binary(_ dataset: Dataset) -> Data {
        var data = magic
        func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
        }
        append(UInt32(dataset.shape.channels))
        append(UInt32(dataset.shape.height))
        append(UInt32(dataset.shape.width))
        append(UInt32(dataset.classCount))
        append(UInt64(dataset.count))
        append(UInt8(dataset.subjects == nil ? 0 : 1))
        data.reserveCapacity(data.count + dataset.features.count * 4 + dataset.count * 8)
        for value in dataset.features { append(value.bitPattern) }
        for label in dataset.labels { append(label) }
        for subject in dataset.subjects ?? [] { append(subject) }
        return data
    }

    /// Decodes the binary form; `name` appears in errors.
    package static func decode(_ data: Data, name: String = "dataset") throws -> Dataset {
        let bytes = [UInt8](data)
        var offset = 0
        func corrupt(_ reason: String) -> AuditError {
            AuditError(.invalidFile, "\(name): not a Sextant dataset file (\(reason))")
        }
        func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
            let size = MemoryLayout<T>.size
            guard offset + size <= bytes.count else { throw corrupt("truncated at byte \(offset)") }
            var value = T.zero
            for i in 0..<size { value |= T(truncatingIfNeeded: bytes[offset + i]) << (8 * i) }
            offset += size
            return value
        }
        guard bytes.count >= magic.count, Data(bytes[0..<magic.count]) == magic else {
            throw corrupt("missing the SXTDATA1 header")
        }
        offset = magic.count
        let channels = Int(try read(UInt32.self))
        let height = Int(try read(UInt32.self))
        let width = Int(try read(UInt32.self))
        let classCount = Int(try read(UInt32.self))
        let count64 = try read(UInt64.self)
        let flag = try read(UInt8.self)
        guard channels > 0, height > 0, width > 0, classCount > 0, flag <= 1 else {
            throw corrupt("invalid header")
        }
        let shape = FeatureShape(channels: channels, height: height, width: width)
        let perRecord = shape.count * 4 + 4 + (flag == 1 ? 4 : 0)
        guard count64 <= UInt64(bytes.count), Int(count64) * perRecord == bytes.count - offset else {
            throw corrupt("\(count64) records of \(shape) do not match the file size \(bytes.count)")
        }
        let count = Int(count64)
        var features = [Float](repeating: 0, count: count * shape.count)
        for i in features.indices { features[i] = Float(bitPattern: try read(UInt32.self)) }
        var labels = [Int32](repeating: 0, count: count)
        for i in labels.indices { labels[i] = try read(Int32.self) }
        var subjects: [Int32]?
        if flag == 1 {
            var ids = [Int32](repeating: 0, count: count)
            for i in ids.indices { ids[i] = try read(Int32.self) }
            subjects = ids
        }
        if let bad = labels.first(where: { $0 < 0 || Int($0) >= classCount }) {
            throw corrupt("label \(bad) outside 0..<\(classCount)")
        }
        return Dataset(shape: shape, classCount: classCount, features: features, labels: labels, subjects: subjects)
    }

    /// The CSV form of `dataset` (features flattened as f0, f1, ...).
    package static func csv(_ dataset: Dataset) -> Data {
        let width = dataset.shape.count
        var text = (0..<width).map { "f\($0)" }.joined(separator: ",") + ",label"
        if dataset.subjects != nil { text += ",subject" }
        text += "\n"
        for row in 0..<dataset.count {
            var fields = dataset.features[(row * width)..<((row + 1) * width)].map { "\($0)" }
            fields.append("\(dataset.labels[row])")
            if let subjects = dataset.subjects { fields.append("\(subjects[row])") }
            text += fields.joined(separator: ",") + "\n"
        }
        return Data(text.utf8)
    }
}
