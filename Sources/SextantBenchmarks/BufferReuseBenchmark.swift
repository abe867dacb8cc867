import Foundation
import SextantRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// What ``LargeBufferReuse`` saves: a buffer of a message's size allocated, filled and freed
/// again and again, first with the C library's defaults, then with reuse on, counting the
/// page faults and the time of each round. Runs on the calling thread, and must run before
/// the process starts other threads that allocate: it turns reuse on for the whole process
/// (`mallopt` is not safe while other threads allocate).
package struct BufferReuseBenchmark: Sendable {
    /// One mode's rounds after the first (which maps the buffer in either mode).
    package struct Mode: Codable, Sendable {
        /// Minor page faults of each round.
        package var faults: [Int]
        /// Seconds of each round.
        package var seconds: [Double]
    }

    package struct Result: Codable, Sendable {
        package var bytes: Int
        package var pages: Int
        /// The C library's defaults.
        package var fresh: Mode
        /// With ``LargeBufferReuse`` on; nil where the C library cannot do it.
        package var reused: Mode?
    }

    package let bytes: Int
    package let rounds: Int

    package init(bytes: Int, rounds: Int) {
        self.bytes = bytes
        self.rounds = rounds
    }

    package func run() -> Result {
        let fresh = measure()
        let reused = LargeBufferReuse.enable() ? measure() : nil
        return Result(bytes: bytes, pages: bytes / Int(getpagesize()), fresh: fresh, reused: reused)
    }

    private func measure() -> Mode {
        var mode = Mode(faults: [], seconds: [])
        for round in 0...rounds {
            let faultsBefore = Self.minorFaults()
            let start = ContinuousClock.now
            let buffer = malloc(bytes)!
            // A store the optimizer must keep (it removes a plain malloc, memset and free).
            explicit_bzero(buffer, bytes)
            free(buffer)
            guard round > 0 else { continue }
            mode.seconds.append((ContinuousClock.now - start) / .seconds(1))
            mode.faults.append(Self.minorFaults() - faultsBefore)
        }
        return mode
    }

    private static func minorFaults() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_minflt
    }
}
