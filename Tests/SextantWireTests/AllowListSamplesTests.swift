import Testing

@testable import SextantWire

/// The operator may declare a client's sample count on its allow-list line
/// (`<key> NAME samples=N`): the most that client's claims are believed.
@Suite struct AllowListSamplesTests {
    @Test("a declared count is read; lines without one have none")
    func declaredCounts() throws {
        let a = try CurveKeyPair.generate().publicKey
        let b = try CurveKeyPair.generate().publicKey
        let list = try AllowList(text: "\(a.z85) client-3 samples=5000  # audited in May\n\(b.z85) client-4\n")
        #expect(list.count == 2)
        #expect(list.declaredSamples(of: "client-3") == 5000)
        #expect(list.declaredSamples(of: "client-4") == nil)
        #expect(list.name(of: a) == "client-3")
    }

    @Test("a bad declaration is refused naming its line")
    func badDeclarations() throws {
        let a = try CurveKeyPair.generate().publicKey
        for field in [
            "samples=0", "samples=-5", "samples=many", "samples=", "weight=3", "samples=99999999999999999999",
        ] {
            let error = #expect(throws: WireError.self) {
                try AllowList(text: "# header\n\(a.z85) client-3 \(field)\n")
            }
            #expect(error?.message.contains("line 2") == true, "\(field): \(error?.message ?? "")")
        }
        let twice = #expect(throws: WireError.self) {
            try AllowList(text: "\(a.z85) client-3 samples=1 samples=2\n")
        }
        #expect(twice?.message.contains("line 1") == true)
    }
}
