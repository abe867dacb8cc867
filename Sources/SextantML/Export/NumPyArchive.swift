import CZlib
import Foundation

/// An `.npz` file as `numpy.savez` writes it: a zip archive, stored without compression, of
/// one `.npy` file per array, which `np.load(path)` reads without pickling. Sendable.
///
/// Arrays are Float32 (`<f4`) of any shape, or one string (`<U`, a 0-d array, as
/// `np.array("...")` makes) for metadata; `.npy` format version 1.0 with the header padded
/// so the data starts at a multiple of 64 bytes. Archives are limited to 4 GiB (no zip64).
package struct NumPyArchive: Sendable, Equatable {
    package enum Array: Sendable, Equatable {
        case float32(shape: [Int], values: [Float])
        case string(String)
    }

    /// The arrays in order, under the names `np.load` gives them (the file name without `.npy`).
    package var arrays: [(name: String, array: Array)]

    package init(arrays: [(name: String, array: Array)]) {
        self.arrays = arrays
    }

    package static func == (lhs: NumPyArchive, rhs: NumPyArchive) -> Bool {
        lhs.arrays.elementsEqual(rhs.arrays) { $0.name == $1.name && $0.array == $1.array }
    }

    /// The bytes of one `.npy` file holding `array`.
    package static func npy(_ array: Array) -> Data {
        let descriptor: String
        let shape: [Int]
        var payload = Data()
        switch array {
        case .float32(let dimensions, let values):
            (descriptor, shape) = ("<f4", dimensions)
            payload.appendLittleEndian(values)
        case .string(let text):
            let scalars = Swift.Array(text.unicodeScalars)
            (descriptor, shape) = ("<U\(max(scalars.count, 1))", [])
            for scalar in scalars {
                withUnsafeBytes(of: scalar.value.littleEndian) { payload.append(contentsOf: $0) }
            }
            if scalars.isEmpty { payload.append(contentsOf: [0, 0, 0, 0]) }
        }
        let tuple =
            shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descriptor)', 'fortran_order': False, 'shape': \(tuple), }"
        let prefix = 10  // magic (6), version (2), header length (2)
        header += String(repeating: " ", count: (64 - (prefix + header.utf8.count + 1) % 64) % 64) + "\n"
        var data = Data([0x93] + Swift.Array("NUMPY".utf8) + [1, 0])
        withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: header.utf8)
        data.append(payload)
        return data
    }

    /// The archive's bytes.
    package func encoded() throws -> Data {
        var archive = Data()
        var directory = Data()
        for (name, array) in arrays {
            let file = Self.npy(array)
            let fileName = Swift.Array((name + ".npy").utf8)
            guard archive.count + file.count < Int(UInt32.max), fileName.count <= Int(UInt16.max) else {
                throw SextantMLError(code: .invalidArgument, "npz: the archive would exceed 4 GiB")
            }
            let crc = file.withUnsafeBytes { raw in
                UInt32(crc32(0, raw.bindMemory(to: Bytef.self).baseAddress, uInt(raw.count)))
            }
            let offset = UInt32(archive.count)
            // Local file header: version 2.0, no flags, stored, no time stamp.
            archive.appendZip(UInt32(0x0403_4b50), UInt16(20), UInt16(0), UInt16(0), UInt16(0), UInt16(0x21))
            archive.appendZip(crc, UInt32(file.count), UInt32(file.count), UInt16(fileName.count), UInt16(0))
            archive.append(contentsOf: fileName)
            archive.append(file)
            // Central directory entry for the same file.
            directory.appendZip(UInt32(0x0201_4b50), UInt16(20), UInt16(20), UInt16(0), UInt16(0), UInt16(0))
            directory.appendZip(UInt16(0x21), crc, UInt32(file.count), UInt32(file.count), UInt16(fileName.count))
            directory.appendZip(UInt16(0), UInt16(0), UInt16(0), UInt16(0), UInt32(0), offset)
            directory.append(contentsOf: fileName)
        }
        let directoryOffset = UInt32(archive.count)
        archive.append(directory)
        archive.appendZip(UInt32(0x0605_4b50), UInt16(0), UInt16(0), UInt16(arrays.count), UInt16(arrays.count))
        archive.appendZip(UInt32(directory.count), directoryOffset, UInt16(0))
        return archive
    }

    /// Writes the archive atomically.
    package func write(to url: URL) throws {
        let data = try encoded()
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw SextantMLError(code: .fileNotFound, "\(url.path): cannot write: \(error.localizedDescription)")
        }
    }
}

extension Data {
    /// Appends little-endian integers, as every zip field is.
    fileprivate mutating func appendZip(_ fields: any FixedWidthInteger...) {
        for field in fields {
            switch field {
            case let value as UInt16: Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
            case let value as UInt32: Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
            default: preconditionFailure("zip fields are UInt16 or UInt32")
            }
        }
    }
}
