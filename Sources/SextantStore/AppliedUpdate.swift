/// An update included in an aggregation, with the staleness it was weighted by. Sendable.
public struct AppliedUpdate: Sendable, Equatable {
    public var id: Int64
    public var staleness: Int

    public init(id: Int64, staleness: Int) {
        self.id = id
        self.staleness = staleness
    }
}
