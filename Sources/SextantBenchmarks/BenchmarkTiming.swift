/// Timing shared by the benchmarks: wall-clock seconds of a closure, and the median of
/// repeated samples (medians, because timings on a shared machine are noisy).
package enum BenchmarkTiming {
    package static func seconds(_ body: () -> Void) -> Double {
        ContinuousClock().measure(body).inSeconds
    }

    package static func median(_ values: [Double]) -> Double {
        precondition(!values.isEmpty, "the median of no samples")
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
