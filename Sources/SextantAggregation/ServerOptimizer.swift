import SextantScheduling

/// Applies an ``Aggregation`` to the model: `w += g` with `g = sum(coefficient * bucket)`,
/// or, when the aggregation carries `serverMomentum` beta (FedAvgM),
/// `v = beta * v + g; w += v` with a server-side velocity `v` that starts at zero.
///
/// The velocity is part of the server's state: checkpoint ``velocity`` with the model and
/// pass it back to `init(parameterCount:velocity:)` on restart, or a resumed FedAvgM run
/// restarts its momentum from zero. Memory is one extra model-sized vector, allocated only
/// once momentum is first used. Not `Sendable`-problematic: a value type owned by the server.
package struct ServerOptimizer: Sendable {
    package let parameterCount: Int
    /// The momentum velocity; empty until an aggregation with momentum has been applied.
    package private(set) var velocity: [Float]

    package init(parameterCount: Int, velocity: [Float] = []) {
        precondition(
            velocity.isEmpty || velocity.count == parameterCount,
            "velocity has \(velocity.count) values, the model \(parameterCount)")
        self.parameterCount = parameterCount
        self.velocity = velocity
    }

    /// Closes the aggregation's buckets in `accumulator` and steps `model`.
    package mutating func apply(
        _ aggregation: Aggregation, accumulator: inout DeltaAccumulator, to model: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(model.count == parameterCount, "model has \(model.count) values, expected \(parameterCount)")
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
}
