import SextantScheduling

/// Sums weighted deltas into per-bucket accumulators and applies them to the model: the
/// server's aggregation hot path. Memory is one model-sized vector per open bucket, never
/// one per client, and each delta is read exactly once, straight from the buffer it
/// arrived in.
package struct DeltaAccumulator: Sendable {
    package let parameterCount: Int
    @usableFromInline var buckets: [BucketID: [Float]] = [:]
    /// Vectors of closed buckets, reused so that steady-state aggregation neither
    /// allocates nor page-faults (a fresh 40 MB array costs ~10,000 faults).
    @usableFromInline var spare: [[Float]] = []

    package init(parameterCount: Int) {
        self.parameterCount = parameterCount
    }

    /// Buckets currently holding a partial sum.
    package var openBuckets: [BucketID] { buckets.keys.sorted() }

    /// `bucket += weight * delta`.
    @inlinable
    package mutating func accumulate(_ delta: UnsafeBufferPointer<Float>, weight: Double, into bucket: BucketID) {
        precondition(delta.count == parameterCount, "delta has \(delta.count) values, the model \(parameterCount)")
        let w = Float(weight)
        if buckets[bucket] == nil {
            // First member: scale into the vector instead of zero-filling then adding.
            if var vector = spare.popLast() {
                vector.withUnsafeMutableBufferPointer { sum in
                    for i in 0..<parameterCount { sum[i] = w * delta[i] }
                }
                buckets[bucket] = vector
            } else {
                buckets[bucket] = [Float](unsafeUninitializedCapacity: parameterCount) { sum, count in
                    for i in 0..<parameterCount { sum[i] = w * delta[i] }
                    count = parameterCount
                }
            }
            return
        }
        buckets[bucket]!.withUnsafeMutableBufferPointer { sum in
            Self.axpy(w, delta, into: sum)
        }
    }

    /// `model += sum(coefficient * bucket)` over the given buckets, which are then closed.
    /// Buckets that received nothing are skipped.
    package mutating func apply(_ weights: [BucketWeight], to model: UnsafeMutableBufferPointer<Float>) {
        precondition(model.count == parameterCount, "model has \(model.count) values, expected \(parameterCount)")
        for weight in weights {
            guard let sum = buckets.removeValue(forKey: weight.bucket) else { continue }
            sum.withUnsafeBufferPointer { sum in
                Self.axpy(Float(weight.coefficient), sum, into: model)
            }
            if spare.count < 2 { spare.append(sum) }
        }
    }

    /// Forgets every partial sum (after a restart they are rebuilt from stored updates).
    package mutating func removeAll() {
        buckets = [:]
        spare = []
    }

    @inlinable @inline(__always)
    package static func axpy(_ a: Float, _ x: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>) {
        // A plain loop: the optimiser vectorises it and it runs at memory bandwidth.
        let n = y.count
        guard let xs = x.baseAddress, let ys = y.baseAddress else { return }
        for i in 0..<n {
            ys[i] += a * xs[i]
        }
    }
}
