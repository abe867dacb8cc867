/// A client update as received, to be recorded before the server acknowledges it. Sendable.
package struct UpdateSubmission: Sendable, Equatable {
    package var run: String
    package var client: String
    /// The client's own sequence number for this update; a retry reuses it, which is how
    /// a resent update is recognised as a duplicate.
    package var sequence: Int
    /// The model version the client trained from.
    package var baseVersion: Int
    package var steps: Int
    package var computeSeconds: Double
    package var samples: Int
    /// L2 norm of the delta before and after clipping (nil without DP clipping).
    package var normBefore: Double?
    package var normAfter: Double?
    /// The delta, when it must survive a crash before it is aggregated; nil otherwise.
    package var delta: [Float]?

    package init(
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
