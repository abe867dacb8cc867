import Testing

@testable import SextantClient
@testable import SextantRuntime
@testable import SextantServer

/// The server logs a peer of another protocol version once, not once per message.
@Suite struct VersionRefusalsTests {
    @Test func eachPeerIsLoggedOnce() {
        var refusals = VersionRefusals()
        let answers = ["a", "a", "b", "a", "b"].map { refusals.first($0) }
        #expect(answers == [true, false, true, false, false])
    }

    @Test func boundedByStartingOver() {
        var refusals = VersionRefusals()
        for index in 0..<9_999 { _ = refusals.first("peer-\(index)") }
        // The 10,000th peer fills it; the next one empties it first, so old peers count again.
        let answers = ["peer-1", "peer-9999", "peer-new", "peer-1"].map { refusals.first($0) }
        #expect(answers == [false, true, true, true])
    }
}
