import SextantWire

/// libFuzzer's entry point for the allow-list parser, which reads a file an operator
/// edits by hand: any text must either parse into valid entries or be refused with a
/// `WireError` that names a line, never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAllowList(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    do {
        let list = try AllowList(text: text)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
        guard list.count <= lines, list.identities.count == list.count else {
            fatalError("allow-list accepted \(list.count) entries from \(lines) lines")
        }
        for (key, name) in list.names {
            // Every accepted key survives Z85 and back, and its name is one of the identities.
            guard (try? CurveKey(z85: key.z85)) == key, list.contains(name: name) else {
                fatalError("allow-list accepted an entry it cannot reproduce: \(name)")
            }
        }
    } catch {
        guard error.message.contains("line") else { fatalError("allow-list refusal names no line: \(error.message)") }
    }
    return 0
}
