import Foundation
import Testing

@testable import SextantScheduling

@Suite struct SchedulerKindTests {
    @Test func everySnapshotRestoresItsOwnKind() throws {
        let schedulers: [(any Scheduler, SchedulerKind)] = [
            (CompassScheduler(), .compass), (FedAvgScheduler(configuration: .init()), .fedavg),
            (FedAvgScheduler(configuration: .init(serverMomentum: 0.9)), .fedavgm), (FedAsyncScheduler(), .fedasync),
            (FedBuffScheduler(), .fedbuff),
        ]
        for (scheduler, kind) in schedulers {
            let data = try scheduler.snapshot()
            #expect(try SchedulerKind.of(snapshot: data) == kind)
            let restored = try SchedulerKind.restoreScheduler(from: data)
            #expect(try restored.snapshot() == data)
        }
    }

    @Test func untaggedFedAvgSnapshotsStillRestore() throws {
        // The format written before snapshots carried their kind: the bare state.
        var s = FedAvgScheduler(configuration: .init(minimumClients: 1))
        _ = s.handle(.joined("a", samples: 5), now: 0)
        let tagged = try JSONSerialization.jsonObject(with: try s.snapshot()) as! [String: Any]
        var bare = tagged["state"] as! [String: Any]
        var configuration = bare["configuration"] as! [String: Any]
        configuration["serverMomentum"] = nil
        bare["configuration"] = configuration
        let legacy = try JSONSerialization.data(withJSONObject: bare)
        #expect(try SchedulerKind.of(snapshot: legacy) == .fedavg)
        let restored = try SchedulerKind.restoreScheduler(from: legacy)
        #expect(restored is FedAvgScheduler)
    }

    @Test func wrongOrCorruptSnapshotsAreErrors() throws {
        let compass = try CompassScheduler().snapshot()
        #expect(throws: SchedulerError.self) { try FedBuffScheduler(restoring: compass) }
        #expect(throws: SchedulerError.self) { try SchedulerKind.restoreScheduler(from: Data("not json".utf8)) }
        #expect(throws: SchedulerError.self) {
            try SchedulerKind.restoreScheduler(from: Data(#"{"kind":"compass","state":{}}"#.utf8))
        }
    }
}
