import SextantRuntime
import Synchronization

/// A flag a signal handler raises and a worker loop polls.
package final class StopFlag: Sendable {
    private let raised = Atomic<Bool>(false)

    package init() {}

    package func raise() { raised.store(true, ordering: .relaxed) }
    package var isRaised: Bool { raised.load(ordering: .relaxed) }
}
