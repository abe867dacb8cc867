import SextantWire
import Testing

@Suite("Wire decoder on bad input")
struct WireDecoderRobustnessTests {
    private let update = frameBytes(WireCodec.encode(sampleMessages[3]))

    @Test("every truncation of every frame of every message is refused with the right code")
    func truncations() {
        for message in sampleMessages {
            let frames = frameBytes(WireCodec.encode(message))
            for index in frames.indices {
                for length in 0..<frames[index].count {
                    var cut = frames
                    cut[index] = Array(cut[index].prefix(length))
                    let expected: WireError.Code = index == 2 ? .wrongPayloadSize : .malformed
                    #expect(decodeError(cut)?.code == expected, "\(message.type) frame \(index) cut to \(length)")

                    // Also with the header agreeing on the shorter metadata, so the field
                    // reader itself meets the end of the bytes.
                    if index == 1 {
                        cut[0].replaceSubrange(
                            8..<12, with: withUnsafeBytes(of: UInt32(length).littleEndian, Array.init))
                        #expect(decodeError(cut)?.code == .malformed, "\(message.type) metadata cut to \(length)")
                    }
                }
                var dropped = frames
                dropped.remove(at: index)
                #expect(decodeError(dropped)?.code == .malformed)
            }
            #expect(decodeError(frames + [[1, 2, 3, 4]])?.code == .malformed)
        }
        #expect(decodeError([])?.code == .malformed)
    }

    @Test("wrong magic")
    func wrongMagic() {
        var frames = update
        frames[0][0] = UInt8(ascii: "X")
        let error = decodeError(frames)
        #expect(error?.code == .malformed)
        #expect(error?.message.contains("magic") == true)
    }

    @Test("a newer protocol version is refused by name, even with a longer header")
    func wrongVersion() {
        var frames = update
        frames[0][4] = 7
        frames[0].append(contentsOf: [0, 0, 0, 0])
        let error = decodeError(frames)
        #expect(error?.code == .unsupportedVersion)
        #expect(error?.message == "unsupported protocol version 7, this peer speaks version 4")
        #expect(error?.peerVersion == 7)
        #expect(error?.replyCode == .unsupportedVersion)
    }

    @Test("unknown message type and unknown flags")
    func unknownTypeAndFlags() {
        for type: UInt8 in [0, 16, 200, 255] {
            var frames = update
            frames[0][6] = type
            #expect(decodeError(frames)?.code == .unknownType)
        }
        var flagged = update
        flagged[0][7] = 0x81
        #expect(decodeError(flagged)?.code == .malformed)
        var missingFlag = update
        missingFlag[0][7] = 0
        #expect(decodeError(missingFlag)?.code == .malformed)
    }

    @Test("metadata length that disagrees with the frame")
    func metadataLengthMismatch() {
        var longer = update
        longer[1].append(0)
        #expect(decodeError(longer)?.code == .malformed)
        var trailing = longer
        trailing[0][8] &+= 1  // header now agrees: the extra byte is trailing garbage
        let error = decodeError(trailing)
        #expect(error?.code == .malformed)
        #expect(error?.message.contains("trailing") == true)
    }

    @Test("payload of the wrong length or the wrong count")
    func wrongPayloadSize() {
        var shortFrame = update
        shortFrame[2].removeLast(4)
        #expect(decodeError(shortFrame)?.code == .wrongPayloadSize)
        var oddFrame = update
        oddFrame[2].append(0)
        #expect(decodeError(oddFrame)?.code == .wrongPayloadSize)
        #expect(decodeError(update, options: WireDecodingOptions(expectedPayloadCount: 4))?.code == .wrongPayloadSize)
        #expect(decodeError(update, options: WireDecodingOptions(expectedPayloadCount: 3)) == nil)
        #expect(decodeError(update, options: WireDecodingOptions(maxPayloadCount: 2))?.code == .wrongPayloadSize)
    }

    @Test("NaN and infinities in the payload", arguments: [Float.nan, .infinity, -.infinity, .signalingNaN])
    func nonFinitePayload(value: Float) {
        var frames = update
        frames[2].replaceSubrange(4..<8, with: withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init))
        // Without a norm limit (a client) and with one (the server, which finds a
        // non-finite value from the norm it computes anyway).
        for options in [WireDecodingOptions(), WireDecodingOptions(maxPayloadNorm: .greatestFiniteMagnitude)] {
            let error = decodeError(frames, options: options)
            #expect(error?.code == .nonFinite)
            #expect(error?.message.contains("value 1") == true)
        }
    }

    @Test("non-finite metadata numbers")
    func nonFiniteMetadata() {
        var message = sampleMessages[3]
        if case .update(var update) = message {
            update.trainLoss = .nan
            message = .update(update)
        }
        #expect(decodeError(frameBytes(WireCodec.encode(message)))?.code == .nonFinite)
    }

    @Test("a payload whose norm is absurd")
    func normTooLarge() {
        // The sample delta is [0.5, -0.25, 8]: norm ~8.019.
        #expect(decodeError(update, options: WireDecodingOptions(maxPayloadNorm: 8))?.code == .normTooLarge)
        #expect(decodeError(update, options: WireDecodingOptions(maxPayloadNorm: 8.1)) == nil)
    }

    @Test("strings: too long, invalid UTF-8, length past the end")
    func badStrings() {
        let join = frameBytes(WireCodec.encode(sampleMessages[0]))
        #expect(decodeError(join, options: WireDecodingOptions(maxStringBytes: 4))?.code == .malformed)
        var invalid = join
        invalid[1][4] = 0xFF  // first byte of the client name
        let error = decodeError(invalid)
        #expect(error?.code == .malformed)
        #expect(error?.message.contains("UTF-8") == true)
        var huge = join
        huge[1].replaceSubrange(0..<4, with: [0xFF, 0xFF, 0xFF, 0x7F])
        #expect(decodeError(huge)?.code == .malformed)
    }

    @Test("bad enum values and booleans in metadata")
    func badEnums() {
        var heartbeat = frameBytes(WireCodec.encode(sampleMessages[5]))
        heartbeat[1][8] = 9
        #expect(decodeError(heartbeat)?.code == .malformed)
        // 2 was version 1's "update ready": an upload request now, never a heartbeat state.
        heartbeat[1][8] = 2
        #expect(decodeError(heartbeat)?.code == .malformed)
        var bye = frameBytes(WireCodec.encode(sampleMessages[8]))
        bye[1][0] = 4  // 0...3 are reasons
        #expect(decodeError(bye)?.code == .malformed)
        var update = self.update
        update[1][update[1].count - 1] = 2  // `clipped` must be 0 or 1
        #expect(decodeError(update)?.code == .malformed)
    }

    @Test("thousands of random and mutated inputs never crash and only give protocol codes")
    func fuzz() {
        var random = SeededBytes(seed: 0x5E47_A417)
        let valid = sampleMessages.map { frameBytes(WireCodec.encode($0)) }
        var decoded = 0
        for round in 0..<4000 {
            var frames: [[UInt8]]
            if round % 2 == 0 {
                // Random frames, sometimes behind a valid-looking header prefix.
                frames = (0..<Int.random(in: 0...4, using: &random)).map { _ in
                    (0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                }
                if round % 4 == 0, !frames.isEmpty {
                    frames[0] = WireHeader.magic + [1, 0] + frames[0]
                }
            } else {
                // A valid message with a few bytes flipped.
                frames = valid[Int.random(in: 0..<valid.count, using: &random)]
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    let index = Int.random(in: 0..<frames.count, using: &random)
                    guard !frames[index].isEmpty else { continue }
                    let position = Int.random(in: 0..<frames[index].count, using: &random)
                    frames[index][position] = UInt8.random(in: 0...255, using: &random)
                }
            }
            if let error = decodeError(frames) {
                #expect(protocolCodes.contains(error.code), "round \(round): \(error)")
            } else {
                decoded += 1
            }
        }
        // Some mutations hit only values (counts, versions), so some inputs still decode.
        #expect(decoded > 0)
    }
}
