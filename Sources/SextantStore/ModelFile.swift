import Foundation

/// A model exported from a checkpoint (`sextant checkpoints export`): a small header, then
/// the raw parameters, so other tools can load it with a few lines of code. Sendable.
///
/// Layout, all integers little-endian:
///
///     offset  size  field
///     0       8     magic "SXTMODEL"
///     8       4     format version, UInt32 = 1
///     12      4     dtype, UInt32: 1 = Float32 little-endian
///     16      8     checkpoint version, UInt64
///     24      8     parameter count n, UInt64
///     32      32    SHA-256 of the parameter bytes
///     64      4     fingerprint length f, UInt32, then f bytes of UTF-8
///     68+f    4     run id length r, UInt32, then r bytes of UTF-8
///     72+f+r  4n    parameters, Float32 little-endian
package struct ModelFile: Sendable, Equatable {
    package static let magic = Data("SXTMODEL".utf8)
    package static let formatVersion: UInt32 = 1
    static let float32Code: UInt32 = 1

    package var run: String
    package var version: Int
    package var fingerprint: String
    package var parameters: [Float]

    package init(run: String, version: Int, fingerprint: String, parameters: [Float]) {
        self.run = run
        self.version = version
        self.fingerprint = fingerprint
        self.parameters = parameters
    }

    /// The file's bytes.
    package func encoded() -> Data {
        let payload = ParameterBlob.encode(parameters)
        var data = Self.magic
        data.reserveCapacity(payload.count + 128)
        data.appendLittleEndian(Self.formatVersion)
        data.appendLittleEndian(Self.float32Code)
        data.appendLittleEndian(UInt64(version))
        data.appendLittleEndian(UInt64(parameters.count))
        data.append(contentsOf: ParameterBlob.sha256Digest(payload))
        for text in [fingerprint, run] {
            data.appendLittleEndian(UInt32(text.utf8.count))
            data.append(contentsOf: text.utf8)
        }
        data.append(payload)
        return data
    }

    /// Writes the file atomically (a reader never sees half a model).
    package func write(to url: URL) throws {
        do {
            try encoded().write(to: url, options: .atomic)
        } catch {
            throw StoreError(code: .ioFailure, "\(url.path): could not write model file: \(error)")
        }
    }

    /// Reads and checks a model file: magic, format, lengths and checksum.
    package static func read(from url: URL) throws -> ModelFile {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw StoreError(code: .ioFailure, "\(url.path): could not read model file: \(error)")
        }
        do {
            return try decode(data)
        } catch let error as StoreError {
            throw StoreError(code: error.code, "\(url.path): \(error.message)")
        }
    }

    /// Decodes the bytes of a model file.
    package static func decode(_ data: Data) throws -> ModelFile {
        var reader = ByteReader(data: data)
        guard try reader.bytes(magic.count) == magic else {
            throw invalid("not a Sextant model file (bad magic)")
        }
        let format: UInt32 = try reader.integer()
        guard format == formatVersion else {
            throw invalid("model file format \(format) is not supported (this build reads \(formatVersion))")
        }
        let dtype: UInt32 = try reader.integer()
        guard dtype == float32Code else { throw invalid("unknown dtype code \(dtype)") }
        let version: UInt64 = try reader.integer()
        let count: UInt64 = try reader.integer()
        let digest = try reader.bytes(32)
        let fingerprint = try reader.string()
        let run = try reader.string()
        guard version <= UInt64(Int.max), count == UInt64(reader.remaining / 4),
            reader.remaining % 4 == 0
        else {
            throw invalid("header says \(count) parameters, but \(reader.remaining) bytes follow")
        }
        let payload = try reader.bytes(reader.remaining)
        guard Data(ParameterBlob.sha256Digest(payload)) == digest else {
            throw invalid("parameter checksum does not match: the file is damaged")
        }
        return ModelFile(
            run: run, version: Int(version), fingerprint: fingerprint,
            parameters: try ParameterBlob.decode(payload))
    }

    static func invalid(_ message: String) -> StoreError {
        StoreError(code: .invalidModelFile, message)
    }
}

/// A bounds-checked cursor over a model file's bytes.
private struct ByteReader {
    let data: Data
    var offset: Int

    init(data: Data) {
        self.data = data
        self.offset = data.startIndex
    }

    var remaining: Int { data.endIndex - offset }

    mutating func bytes(_ count: Int) throws -> Data {
        guard count >= 0, count <= remaining else {
            throw ModelFile.invalid("model file is truncated")
        }
        defer { offset += count }
        return data.subdata(in: offset..<offset + count)
    }

    mutating func integer<T: FixedWidthInteger>() throws -> T {
        var value = T.zero
        for (index, byte) in try bytes(MemoryLayout<T>.size).enumerated() {
            value |= T(byte) << (8 * index)
        }
        return value
    }

    mutating func string() throws -> String {
        let length: UInt32 = try integer()
        guard let text = String(data: try bytes(Int(length)), encoding: .utf8) else {
            throw ModelFile.invalid("model file has a header string that is not UTF-8")
        }
        return text
    }
}

extension Data {
    fileprivate mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
