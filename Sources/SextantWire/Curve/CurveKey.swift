import CZeroMQ

/// A 32-byte CURVE key (public or secret), written as 40 characters of Z85 text in files.
public struct CurveKey: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws(WireError) {
        guard bytes.count == 32 else {
            throw WireError(.invalidArgument, "a CURVE key has 32 bytes, got \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// Decodes a key from its 40-character Z85 form.
    public init(z85 text: some StringProtocol) throws(WireError) {
        let characters = Array(text.utf8)
        let alphabet = Array(
            "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8)
        guard characters.count == 40, characters.allSatisfy(alphabet.contains) else {
            throw WireError(.invalidArgument, "'\(text.prefix(48))' is not a CURVE key (40 characters of Z85 text)")
        }
        var decoded = [UInt8](repeating: 0, count: 32)
        let ok = String(text).withCString { zmq_z85_decode(&decoded, $0) } != nil
        guard ok else { throw WireError(.invalidArgument, "'\(text)' is not valid Z85") }
        bytes = decoded
    }

    /// The key as 40 characters of Z85 text.
    public var z85: String {
        var text = [CChar](repeating: 0, count: 41)
        _ = bytes.withUnsafeBufferPointer { zmq_z85_encode(&text, $0.baseAddress, 32) }
        return String(cCharBuffer: text)
    }

    /// The first characters of the Z85 form: enough to tell keys apart in logs without
    /// printing a whole (secret) key.
    public var description: String { String(z85.prefix(8)) + "…" }
}
