import Foundation

/// A bounded first-in first-out queue between one producer thread and worker threads;
/// `push` blocks while the queue is full, `pop` while it is empty and open. Sendable:
/// a lock-protected box.
final class WorkQueue<Element: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element] = []
    private var isClosed = false
    private let capacity: Int

    init(capacity: Int) {
        precondition(capacity > 0, "a work queue needs room for one item")
        self.capacity = capacity
    }

    /// Adds an item, waiting for room; returns false (dropping it) if the queue was closed.
    @discardableResult
    func push(_ item: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity, !isClosed { condition.wait() }
        guard !isClosed else { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// The next item, or nil once the queue is closed and drained.
    func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty, !isClosed { condition.wait() }
        guard !items.isEmpty else { return nil }
        let item = items.removeFirst()
        condition.broadcast()
        return item
    }

    /// No more items will come; waiting workers drain what is left and stop.
    func close() {
        condition.lock()
        isClosed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Drops queued items and closes (after a failure).
    func cancel() {
        condition.lock()
        items.removeAll()
        isClosed = true
        condition.broadcast()
        condition.unlock()
    }
}
