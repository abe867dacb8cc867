import SextantBenchmarks
import Testing

@testable import SextantClient
@testable import SextantLauncher
@testable import SextantRuntime
@testable import SextantServer
@testable import SextantSimulation

@Suite struct UploadSlotsTests {
    @Test func grantsUpToCapacityThenQueuesInOrder() {
        var slots = UploadSlots(capacity: 2)
        let answers = [
            slots.request("a", now: 0), slots.request("b", now: 0), slots.request("c", now: 1),
            slots.request("d", now: 2), slots.request("c", now: 3),  // asking again does not queue twice
        ]
        #expect(answers == [true, true, false, false, false])
        #expect(slots.queue == ["c", "d"])
        // A holder asking again is granted again (its grant may have been lost).
        let again = slots.request("a", now: 4)
        #expect(again)
        #expect(slots.granted.count == 2)
    }

    @Test func releasePromotesTheNextConnectedClient() {
        var slots = UploadSlots(capacity: 1)
        _ = slots.request("a", now: 0)
        _ = slots.request("b", now: 1)
        _ = slots.request("c", now: 2)
        // b left while waiting: c gets the slot.
        let promoted = slots.release("a", now: 5) { $0 != "b" }
        #expect(promoted == ["c"])
        #expect(slots.granted == ["c": 5])
        #expect(slots.queue.isEmpty)
    }

    @Test func releasingAClientWithoutASlotOnlyLeavesTheQueue() {
        var slots = UploadSlots(capacity: 1)
        _ = slots.request("a", now: 0)
        _ = slots.request("b", now: 0)
        let promoted = slots.release("b", now: 1) { _ in true }
        #expect(promoted.isEmpty)
        #expect(slots.queue.isEmpty)
        #expect(slots.granted.keys.sorted() == ["a"])
    }

    @Test func unusedGrantsExpire() {
        var slots = UploadSlots(capacity: 3)
        _ = slots.request("a", now: 0)
        _ = slots.request("b", now: 40)
        #expect(slots.expired(before: 30) == ["a"])
    }
}
