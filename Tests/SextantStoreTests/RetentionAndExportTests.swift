import Foundation
import Testing

@testable import SextantStore

@Suite("Retention, streaming and export")
struct RetentionAndExportTests {
    /// A store with run-1 at versions 0...last.
    private func store(in directory: URL, upTo last: Int) throws -> CheckpointStore {
        let store = try makeStore(in: directory)
        try store.startRun(id: "run-1", config: "", fingerprint: "mlp", initialParameters: vector(4, seed: 0))
        for version in stride(from: 1, through: last, by: 1) {
            try store.commitAggregation(
                run: "run-1", version: version, parameters: vector(4, seed: Float(version)),
                metrics: ["accuracy": Double(version) / 100], epsilon: Double(version) * 0.1,
                appliedUpdates: [])
        }
        return store
    }

    @Test(arguments: [
        (keepEvery: Int?.none, keepLast: Int?.none, kept: Array(0...11)),
        (keepEvery: 5, keepLast: nil, kept: [0, 5, 10, 11]),
        (keepEvery: nil, keepLast: 3, kept: [0, 9, 10, 11]),
        (keepEvery: 4, keepLast: 2, kept: [0, 4, 8, 10, 11]),
        (keepEvery: 1, keepLast: 0, kept: Array(0...11)),
    ])
    func pruneKeepsTheRightVersions(keepEvery: Int?, keepLast: Int?, kept: [Int]) throws {
        try withTemporaryDirectory { directory in
            let store = try store(in: directory, upTo: 11)
            let removed = try store.prune(run: "run-1", keepEvery: keepEvery, keepLast: keepLast)
            #expect(try store.checkpointVersions(run: "run-1") == kept)
            #expect(Set(removed).union(kept) == Set(0...11))
            #expect(try store.verify().isOK)
        }
    }

    @Test func pruneRejectsNonsense() throws {
        try withTemporaryDirectory { directory in
            let store = try store(in: directory, upTo: 1)
            #expect(throws: StoreError.self) { try store.prune(run: "run-1", keepEvery: 0) }
            #expect(throws: StoreError.self) { try store.prune(run: "run-1", keepLast: -1) }
        }
    }

    @Test func streamingVisitsEveryCheckpointInOrder() throws {
        try withTemporaryDirectory { directory in
            let store = try store(in: directory, upTo: 6)
            var seen: [Int] = []
            try store.forEachCheckpoint(run: "run-1") { checkpoint in
                #expect(checkpoint.parameters == vector(4, seed: Float(checkpoint.version)))
                seen.append(checkpoint.version)
                return true
            }
            #expect(seen == Array(0...6))

            var partial: [Int] = []
            try store.forEachCheckpoint(run: "run-1", fromVersion: 2) { checkpoint in
                partial.append(checkpoint.version)
                return checkpoint.version < 4
            }
            #expect(partial == [2, 3, 4])
        }
    }

    @Test func summariesListWithoutParameters() throws {
        try withTemporaryDirectory { directory in
            let store = try store(in: directory, upTo: 2)
            let summaries = try store.checkpointSummaries(run: "run-1")
            #expect(summaries.map(\.version) == [0, 1, 2])
            #expect(summaries.map(\.byteSize) == [16, 16, 16])
            #expect(summaries[2].accuracy == 0.02)
            #expect(summaries[0].epsilon == nil)
            #expect(summaries[2].epsilon == 0.2)
        }
    }

    @Test func exportedModelReadsBack() throws {
        try withTemporaryDirectory { directory in
            let store = try store(in: directory, upTo: 3)
            let url = directory.appendingPathComponent("model.sxm")
            let written = try store.export(run: "run-1", version: 2, to: url)
            let read = try ModelFile.read(from: url)
            #expect(read == written)
            #expect(
                read
                    == ModelFile(run: "run-1", version: 2, fingerprint: "mlp", parameters: vector(4, seed: 2))
            )

            let latest = try store.export(run: "run-1", to: url)
            #expect(latest.version == 3)
            #expect {
                try store.export(run: "run-1", version: 42, to: url)
            } throws: { ($0 as? StoreError)?.code == .notFound }
        }
    }

    @Test func modelFileHeaderIsAsDocumented() throws {
        let data = ModelFile(run: "r", version: 5, fingerprint: "fp", parameters: [1.0]).encoded()
        #expect(data.prefix(8) == Data("SXTMODEL".utf8))
        #expect(Array(data[8..<16]) == [1, 0, 0, 0, 1, 0, 0, 0])
        #expect(Array(data[16..<32]) == [5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
        #expect(Array(data[64..<70]) == [2, 0, 0, 0] + Array("fp".utf8))
        #expect(Array(data[70..<75]) == [1, 0, 0, 0] + Array("r".utf8))
        #expect(Array(data.suffix(4)) == [0x00, 0x00, 0x80, 0x3F])  // 1.0f little-endian
        #expect(data.count == 79)
    }

    @Test func damagedModelFilesAreRejected() throws {
        let good = ModelFile(run: "r", version: 1, fingerprint: "fp", parameters: vector(4, seed: 0))
            .encoded()
        var flipped = good
        flipped[flipped.count - 1] ^= 0x01
        var badMagic = good
        badMagic[0] = UInt8(ascii: "X")
        for damaged in [flipped, badMagic, good.prefix(40), good.dropLast(2), Data()] {
            #expect {
                _ = try ModelFile.decode(Data(damaged))
            } throws: { ($0 as? StoreError)?.code == .invalidModelFile }
        }
    }

    @Test func blobConversionRoundTripsAndRejectsRaggedLengths() throws {
        let values: [Float] = [0, -0.0, 1.5, .infinity, -.greatestFiniteMagnitude, .leastNonzeroMagnitude]
        let decoded = try ParameterBlob.decode(ParameterBlob.encode(values))
        #expect(decoded.map(\.bitPattern) == values.map(\.bitPattern))
        #expect(throws: StoreError.self) { _ = try ParameterBlob.decode(Data([1, 2, 3])) }
        #expect(try ParameterBlob.decode(Data()) == [])
    }
}
