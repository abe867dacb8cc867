/// An update included in an aggregation, with the staleness it was weighted by. Sendable.
package struct AppliedUpdate: Sendable, Equatable {
    package var id: Int64
    package var staleness: Int

    package init(id: Int64, staleness: Int) {
        self.id = id
        self.staleness = staleness
    }
}
