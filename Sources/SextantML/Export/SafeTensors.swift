import Foundation

/// A safetensors file of Float32 tensors: the format PyTorch, JAX and NumPy users load with
/// `safetensors.torch.load_file` / `safetensors.numpy.load_file`. Sendable.
///
/// Layout: an 8-byte little-endian header length `n`, then `n` bytes of JSON, then the raw
/// data. The JSON maps each tensor's name to `{"dtype": "F32", "shape": [...],
/// "data_offsets": [begin, end]}` (offsets into the data that follows the header) and holds a
/// `__metadata__` map of strings. Tensors are written in order, back to back, little-endian
/// row-major; the header is padded with spaces to a multiple of 8 bytes so the data is aligned.
package struct SafeTensors: Sendable, Equatable {
    /// One named tensor.
    package struct Tensor: Sendable, Equatable {
        package var name: String
        package var shape: [Int]
        package var values: [Float]

        package init(name: String, shape: [Int], values: [Float]) {
            precondition(
                shape.reduce(1, *) == values.count, "tensor \(name): shape \(shape) holds \(values.count) values")
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    /// The tensors, in the order of their data in the file.
    package var tensors: [Tensor]
    package var metadata: [String: String]

    package init(tensors: [Tensor], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    static let metadataKey = "__metadata__"

    /// The tensor named `name`, if any.
    package subscript(name: String) -> Tensor? {
        tensors.first { $0.name == name }
    }

    // MARK: - Writing

    /// The file's bytes.
    package func encoded() throws -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        for tensor in tensors {
            guard tensor.name != Self.metadataKey, header[tensor.name] == nil else {
                throw SextantMLError(code: .invalidArgument, "safetensors: tensor name '\(tensor.name)' is used twice")
            }
            let end = offset + tensor.values.count * MemoryLayout<Float>.size
            header[tensor.name] =
                ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, end]] as [String: Any]
            offset = end
        }
        if !metadata.isEmpty { header[Self.metadataKey] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
        json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for tensor in tensors { data.appendLittleEndian(tensor.values) }
        return data
    }

    /// Writes the file atomically.
    package func write(to url: URL) throws {
        let data = try encoded()
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw SextantMLError(code: .fileNotFound, "\(url.path): cannot write: \(error.localizedDescription)")
        }
    }

    // MARK: - Reading

    /// Reads and checks a safetensors file.
    package static func read(from url: URL) throws -> SafeTensors {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw SextantMLError(code: .fileNotFound, "\(url.path): no such file or it cannot be read")
        }
        do {
            return try decode(data)
        } catch let error as SextantMLError {
            throw SextantMLError(code: error.code, "\(url.path): \(error.message)")
        }
    }

    /// Decodes a safetensors file's bytes: every tensor must be F32 (the dtype Sextant trains
    /// in), its offsets must match its shape, and the tensors must cover the data exactly.
    package static func decode(_ data: Data) throws -> SafeTensors {
        func invalid(_ problem: String) -> SextantMLError {
            SextantMLError(code: .corruptData, "not a valid safetensors file: \(problem)")
        }
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else { throw invalid("\(bytes.count) bytes, shorter than the 8-byte header length") }
        let headerLength = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw invalid("the header length \(headerLength) exceeds the file's \(bytes.count - 8) remaining bytes")
        }
        let dataStart = 8 + Int(headerLength)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart]))
        } catch {
            throw invalid("the header is not JSON")
        }
        guard let header = object as? [String: Any] else { throw invalid("the header is not a JSON object") }
        var metadata: [String: String] = [:]
        var entries: [(name: String, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header {
            if name == metadataKey {
                guard let map = value as? [String: String] else {
                    throw invalid("__metadata__ is not a map of strings")
                }
                metadata = map
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw invalid("tensor '\(name)' lacks dtype, shape or data_offsets") }
            guard dtype == "F32" else {
                throw SextantMLError(
                    code: .unsupportedFormat, "tensor '\(name)' has dtype \(dtype); Sextant reads F32 tensors only")
            }
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[1] >= offsets[0],
                offsets[1] - offsets[0] == shape.reduce(1, *) * MemoryLayout<Float>.size
            else { throw invalid("tensor '\(name)': data_offsets \(offsets) do not hold shape \(shape) of F32") }
            entries.append((name, shape, offsets[0], offsets[1]))
        }
        entries.sort { $0.begin < $1.begin }
        var expected = 0
        for entry in entries {
            guard entry.begin == expected else {
                throw invalid("tensor '\(entry.name)' starts at \(entry.begin), expected \(expected) (gap or overlap)")
            }
            expected = entry.end
        }
        guard expected == bytes.count - dataStart else {
            throw invalid("the tensors hold \(expected) bytes, the file \(bytes.count - dataStart) after the header")
        }
        let tensors = entries.map { entry in
            let count = (entry.end - entry.begin) / MemoryLayout<Float>.size
            let start = dataStart + entry.begin
            let values = bytes[start..<(start + count * 4)].withUnsafeBytes { raw in
                (0..<count).map {
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
                }
            }
            return Tensor(name: entry.name, shape: entry.shape, values: values)
        }
        return SafeTensors(tensors: tensors, metadata: metadata)
    }
}

extension Data {
    /// Appends `values` as little-endian Float32.
    mutating func appendLittleEndian(_ values: [Float]) {
        #if _endian(little)
            values.withUnsafeBytes { append(contentsOf: $0) }
        #else
            for value in values { Swift.withUnsafeBytes(of: value.bitPattern.littleEndian) { append(contentsOf: $0) } }
        #endif
    }
}
