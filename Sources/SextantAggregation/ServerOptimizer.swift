import SextantScheduling

/// Applies an ``Aggregation`` to the model: `w += g` with `g = sum(coefficient * bucket)`;
/// when the aggregation carries `serverMomentum` beta (FedAvgM),
/// `v = beta * v + g; w += v` with a server-side velocity `v` that starts at zero; with an
/// ``AdaptiveServerOptimizer`` (FedAdam, FedYogi, FedAdagrad: any scheduler but FedAvgM),
/// its step from `g` and the moments `m`, `v`.
///
/// The velocity and the moments are part of the server's state: checkpoint ``velocity`` and
/// ``moments`` with the model and pass them back to `init` on restart, or a resumed run
/// restarts them from zero. Memory: one extra model-sized vector for momentum, three for an
/// adaptive rule (m, v and the pseudo-gradient), allocated at the first aggregation.
/// `Sendable`: a value type owned by the server.
package struct ServerOptimizer: Sendable {
    package let parameterCount: Int
    /// The momentum velocity; empty until an aggregation with momentum has been applied.
    package private(set) var velocity: [Float]
    /// The adaptive rule, or nil for the plain step (and FedAvgM).
    package let adaptive: AdaptiveServerOptimizer?
    /// The adaptive rule's `m` then `v` (`2 * parameterCount` values); empty until its first step.
    package private(set) var moments: [Float]
    /// Scratch for the adaptive rule's pseudo-gradient, kept between aggregations.
    private var pseudoGradient: [Float] = []

    package init(
        parameterCount: Int, velocity: [Float] = [], adaptive: AdaptiveServerOptimizer? = nil, moments: [Float] = []
    ) {
        precondition(
            velocity.isEmpty || velocity.count == parameterCount,
            "velocity has \(velocity.count) values, the model \(parameterCount)")
        precondition(
            moments.isEmpty || moments.count == 2 * parameterCount,
            "server moments have \(moments.count) values, expected \(2 * parameterCount)")
        self.parameterCount = parameterCount
        self.velocity = velocity
        self.adaptive = adaptive
        self.moments = moments
    }

    /// Closes the aggregation's buckets in `accumulator` and steps `model`.
    package mutating func apply(
        _ aggregation: Aggregation, accumulator: inout DeltaAccumulator, to model: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(model.count == parameterCount, "model has \(model.count) values, expected \(parameterCount)")
        if let adaptive {
            precondition(aggregation.serverMomentum == nil, "server momentum and an adaptive server optimizer together")
            step(adaptive, aggregation, accumulator: &accumulator, model: model)
            return
        }
        guard let beta = aggregation.serverMomentum else {
            accumulator.apply(aggregation.buckets, to: model)
            return
        }
        if velocity.isEmpty { velocity = [Float](repeating: 0, count: parameterCount) }
        let b = Float(beta)
        velocity.withUnsafeMutableBufferPointer { v in
            for i in 0..<parameterCount { v[i] *= b }
            accumulator.apply(aggregation.buckets, to: v)
            DeltaAccumulator.axpy(1, UnsafeBufferPointer(v), into: model)
        }
    }

    private mutating func step(
        _ adaptive: AdaptiveServerOptimizer, _ aggregation: Aggregation, accumulator: inout DeltaAccumulator,
        model: UnsafeMutableBufferPointer<Float>
    ) {
        let count = parameterCount
        if moments.isEmpty {
            let tauSquared = Float(adaptive.tau * adaptive.tau)
            moments = [Float](repeating: 0, count: count) + [Float](repeating: tauSquared, count: count)
        }
        if pseudoGradient.isEmpty {
            pseudoGradient = [Float](repeating: 0, count: count)
        } else {
            pseudoGradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
        pseudoGradient.withUnsafeMutableBufferPointer { g in
            accumulator.apply(aggregation.buckets, to: g)
            moments.withUnsafeMutableBufferPointer { both in
                adaptive.step(
                    UnsafeBufferPointer(g), first: UnsafeMutableBufferPointer(rebasing: both[0..<count]),
                    second: UnsafeMutableBufferPointer(rebasing: both[count...]), model: model)
            }
        }
    }
}
