import Foundation
import SextantBenchmarks
import SextantML
import SextantStore
import Testing

@testable import SextantClient
@testable import SextantLauncher
@testable import SextantRuntime
@testable import SextantServer
@testable import SextantSimulation

@Suite struct ClientSessionsTests {
    /// `sextant-client --sessions K` decodes the data once for K clients; each session must
    /// still train on exactly the partition a client of its own would load.
    @Test(.enabled(if: FederationDataTests.hasFashionMNIST))
    func partitionsLoadedTogetherEqualPartitionsLoadedOneByOne() throws {
        var configuration = FederationConfiguration()
        configuration.data.partition = "class"
        configuration.data.trainingLimit = 900
        configuration.clients.count = 5
        let together = try FederationData.loadPartitions(configuration, indices: 1..<4)
        #expect(together.count == 3)
        for (offset, index) in (1..<4).enumerated() {
            let alone = try FederationData.loadPartition(configuration, index: index)
            #expect(together[offset].labels == alone.labels, "client \(index)")
            #expect(together[offset].features == alone.features, "client \(index)")
        }
    }

    @Test func sessionsBeyondTheFederationAreRefused() {
        var configuration = FederationConfiguration()
        configuration.clients.count = 4
        #expect(throws: RuntimeError.self) { try FederationData.loadPartitions(configuration, indices: 2..<6) }
    }

    /// A full disk, a read-only file system or an I/O error stop the server (no update can
    /// be acknowledged any more); a busy lock or one bad row does not.
    @Test(arguments: [
        (StoreError.Code.diskFull, true), (.readOnly, true), (.ioFailure, true), (.cannotOpen, true), (.corrupt, true),
        (.busy, false), (.constraintViolation, false), (.invalidData, false), (.notFound, false),
    ])
    func storageFailuresThatStopTheServer(code: StoreError.Code, stops: Bool) {
        #expect(FederationServer.isStorageFailure(StoreError(code: code, "test")) == stops)
    }

    @Test func errorsOtherThanTheStoresDoNotStopTheServer() {
        #expect(!FederationServer.isStorageFailure(RuntimeError(.storage, "not a store error")))
    }
}
