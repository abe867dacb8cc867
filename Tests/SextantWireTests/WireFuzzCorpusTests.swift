import Foundation
import SextantWire
import Testing

/// Replays the wire decoder's fuzz corpora (FuzzTesting/Corpus/) without libFuzzer, through
/// the same `FuzzFrames` splitting and checks as the fuzz target, so that CI catches a
/// regression on every input the fuzzer ever found interesting.
@Suite("Wire fuzz corpus")
struct WireFuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FuzzTesting/Corpus")

    /// Paths relative to the corpus directory (e.g. "seed/ack"), every file at any depth
    /// except hidden ones.
    static func files(under subdirectory: String = "") -> [String] {
        let root = corpus.appendingPathComponent(subdirectory).standardizedFileURL
        guard
            let walk = FileManager.default.enumerator(
                at: root, includingPropertiesForKeys: [.isRegularFileKey], options: .skipsHiddenFiles)
        else { return [] }
        let prefix = corpus.standardizedFileURL.path + "/"
        return walk.compactMap { item in
            guard let url = item as? URL,
                (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true
            else { return nil }
            return String(url.standardizedFileURL.path.dropFirst(prefix.count))
        }.sorted()
    }

    static func frames(of file: String) throws -> [[UInt8]] {
        FuzzFrames.split(try Data(contentsOf: corpus.appendingPathComponent(file)))
    }

    @Test("every corpus file decodes or is refused with a protocol error, and nothing else", arguments: files())
    func replay(file: String) throws {
        _ = try FuzzFrames.decode(Self.frames(of: file))
    }

    @Test("every seed decodes, as a server and as a client", arguments: files(under: "seed"))
    func seedDecodes(file: String) throws {
        for result in try FuzzFrames.decode(Self.frames(of: file)) {
            if case .failure(let error) = result { Issue.record("\(file) refused: \(error)") }
        }
    }

    @Test("the seeds hold every message type")
    func seedsCoverEveryType() throws {
        var types: Set<WireMessageType> = []
        for file in Self.files(under: "seed") {
            for case .success(let message) in try FuzzFrames.decode(Self.frames(of: file)) {
                types.insert(message.type)
            }
        }
        #expect(types == Set(WireMessageType.allCases))
    }

    @Test("frame format: UInt16 counts, a short or overlong last count takes what is left")
    func frameFormat() {
        #expect(FuzzFrames.split([UInt8]()) == [])
        #expect(FuzzFrames.split([0, 0]) == [[]])
        #expect(FuzzFrames.split([1, 0, 9, 0, 0, 2, 0, 7, 8]) == [[9], [], [7, 8]])
        let long = [UInt8](repeating: 5, count: 257)
        #expect(FuzzFrames.split([0x01, 0x01] + long) == [long])
        #expect(FuzzFrames.split([5, 0, 1, 2]) == [[1, 2]])
        #expect(FuzzFrames.split([1, 0, 9, 3]) == [[9], []])

        let frames: [[UInt8]] = [[1, 2, 3], [], [UInt8](repeating: 0xAB, count: 65_535)]
        #expect(FuzzFrames.join(frames).map(FuzzFrames.split) == frames)
        #expect(FuzzFrames.join([[UInt8](repeating: 0, count: 65_536)]) == nil)
    }
}
