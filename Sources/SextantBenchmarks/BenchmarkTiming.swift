#if canImport(Glibc)
    import Glibc
#endif

/// Timing shared by the benchmarks: wall-clock or CPU seconds of a closure, and the median
/// of repeated samples (medians, because timings on a shared machine are noisy).
package enum BenchmarkTiming {
    package static func seconds(_ body: () -> Void) -> Double {
        ContinuousClock().measure(body).inSeconds
    }

    /// Wall-clock and CPU seconds (of the whole process: every thread, OpenBLAS's too) of `body`.
    /// On a loaded machine the CPU seconds measure the code; the wall-clock ones also the wait.
    package static func wallAndCPUSeconds(_ body: () -> Void) -> (wall: Double, cpu: Double) {
        let cpuStart = processCPUSeconds()
        let wall = seconds(body)
        return (wall, processCPUSeconds() - cpuStart)
    }

    package static func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    package static func median(_ values: [Double]) -> Double {
        precondition(!values.isEmpty, "the median of no samples")
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
