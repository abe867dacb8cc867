#if canImport(Glibc)
    import Glibc
#endif

/// What this process has used so far, as `getrusage` reports it: printed by the server and
/// the client when they end, so that a run's CPU can be split by process
/// (`bench/round-timeline`).
package struct ProcessUsage: Sendable {
    /// User plus system CPU time, in seconds.
    package var cpuSeconds: Double
    /// Peak resident memory, in bytes.
    package var peakMemory: Int

    package static func now() -> ProcessUsage {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return ProcessUsage(
            cpuSeconds: seconds(usage.ru_utime) + seconds(usage.ru_stime), peakMemory: usage.ru_maxrss * 1024)
    }

    /// `CPU 1.23 s, 1.01 s of it after start-up`, as the end-of-run lines print it: the
    /// CPU since `startedUp` (taken once the data and model are loaded) is what the run's
    /// rounds cost.
    package func cpuText(since startedUp: ProcessUsage) -> String {
        func seconds(_ value: Double) -> String { "\((value * 100).rounded() / 100) s" }
        return "CPU \(seconds(cpuSeconds)), \(seconds(cpuSeconds - startedUp.cpuSeconds)) of it after start-up"
    }
}
