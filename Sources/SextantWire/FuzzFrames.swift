/// A multipart message as one byte string: the input of the wire decoder's fuzz target
/// (`FuzzTesting/`) and of its corpus files, which the unit tests replay. `Sendable`: no state.
///
/// Each frame is a UInt16 little-endian byte count followed by that many bytes. A count cut
/// short by the end of the input, or running past it, ends the input with a frame of the bytes
/// that are left, so every byte string is some list of frames (the empty one is no frames).
public enum FuzzFrames {
    /// The parameter count of the model the fuzz inputs are decoded for.
    public static let parameterCount = 8

    /// Every input is decoded twice: as a server does (exact parameter count, a delta norm
    /// limit, payload read in place) and as a client copying the payload out of the frame.
    public static let decodingOptions: [WireDecodingOptions] = [
        WireDecodingOptions(expectedPayloadCount: parameterCount, maxPayloadNorm: 100),
        WireDecodingOptions(expectedPayloadCount: parameterCount, copiesPayload: true),
    ]

    /// The frames `input` stands for (see the type's comment); never fails.
    public static func split(_ input: some Collection<UInt8>) -> [[UInt8]] {
        let bytes = Array(input)
        var frames: [[UInt8]] = []
        var offset = 0
        while offset < bytes.count {
            var count = Int(bytes[offset])
            offset += 1
            if offset < bytes.count {
                count |= Int(bytes[offset]) << 8
                offset += 1
            }
            let end = offset + min(count, bytes.count - offset)
            frames.append(Array(bytes[offset..<end]))
            offset = end
        }
        return frames
    }

    /// The byte string `split` turns back into `frames`; nil if a frame exceeds 65,535 bytes.
    public static func join(_ frames: [[UInt8]]) -> [UInt8]? {
        var writer = ByteWriter()
        for frame in frames {
            guard let count = UInt16(exactly: frame.count) else { return nil }
            writer.write(count)
            for byte in frame { writer.write(byte) }
        }
        return writer.bytes
    }

    /// The frames of `message` as a peer receives them.
    public static func frames(of message: WireMessage) -> [[UInt8]] {
        WireCodec.encode(message).map { frame in
            switch frame {
            case .bytes(let bytes): bytes
            case .floats(let floats): floats.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
            }
        }
    }

    /// Decodes `frames` with each of `decodingOptions` and returns what each gave, after
    /// checking the decoder's promises beyond not crashing: a refusal carries a protocol
    /// error code and a message, and an accepted message encodes back to exactly `frames`
    /// (the encoding is canonical, so no byte was ignored).
    public static func decode(_ frames: [[UInt8]]) throws(BrokenPromise) -> [Result<WireMessage, WireError>] {
        try decodingOptions.map { (options) throws(BrokenPromise) in
            let message: WireMessage
            do throws(WireError) {
                message = try WireCodec.decode(frames.map { ZMQFrame(bytes: $0) }, options: options)
            } catch {
                guard !error.message.isEmpty, protocolCodes.contains(error.code) else {
                    throw BrokenPromise("refused with code \(error.code): \"\(error.message)\"")
                }
                return .failure(error)
            }
            guard Self.frames(of: message) == frames else {
                throw BrokenPromise("accepted \(message.type) does not encode back to its frames")
            }
            return .success(message)
        }
    }

    /// What `decode` found wrong.
    public struct BrokenPromise: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    private static let protocolCodes: Set<WireError.Code> = [
        .malformed, .unsupportedVersion, .unknownType, .wrongPayloadSize, .nonFinite, .normTooLarge,
    ]
}
