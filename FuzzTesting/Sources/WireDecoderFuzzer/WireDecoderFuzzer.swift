import SextantWire

/// libFuzzer's entry point: one input, split into frames and decoded as a server and as a
/// client would. A crash, a sanitizer report or a broken promise (the trap below) is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWireDecoder(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let frames = FuzzFrames.split(UnsafeRawBufferPointer(start: start, count: count))
    do {
        _ = try FuzzFrames.decode(frames)
    } catch {
        fatalError("wire decoder broke a promise: \(error)")
    }
    return 0
}
