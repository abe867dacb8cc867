/// A client update as received, to be recorded before the server acknowledges it. Sendable.
public struct UpdateSubmission: Sendable, Equatable {
    public var run: String
    public var client: String
    /// The client's own sequence number for this update; a retry reuses it, which is how
    /// a resent update is recognised as a duplicate.
    public var sequence: Int
    /// The model version the client trained from.
    public var baseVersion: Int
    public var steps: Int
    public var computeSeconds: Double
    public var samples: Int
    /// L2 norm of the delta before and after clipping (nil without DP clipping).
    public var normBefore: Double?
    public var normAfter: Double?
    /// The delta, when it must survive a crash before it is aggregated; nil otherwise.
    public var delta: [Float]?

    public init(
        run: String, client: String, sequence: Int, baseVersion: Int, steps: Int,
        computeSeconds: Double, samples: Int, normBefore: Double? = nil,
        normAfter: Double? = nil, delta: [Float]?
    ) {
        self.run = run
        self.client = client
        self.sequence = sequence
        self.baseVersion = baseVersion
        self.steps = steps
        self.computeSeconds = computeSeconds
        self.samples = samples
        self.normBefore = normBefore
        self.normAfter = normAfter
        self.delta = delta
    }
}
