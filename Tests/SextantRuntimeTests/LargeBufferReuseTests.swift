import Testing

@testable import SextantRuntime

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Large buffer reuse")
struct LargeBufferReuseTests {
    /// A 40 MB buffer (a 10M-parameter message) freed and allocated again is touched
    /// without faulting its 9,766 pages in again.
    @Test("a freed 40 MB buffer comes back without page faults")
    func freedBufferIsReusedWithoutFaults() {
        #if canImport(Glibc)
            #expect(LargeBufferReuse.enable())
            let size = 40_000_000
            func touchFresh() -> Int {
                let before = minorFaults()
                let buffer = malloc(size)!
                memset(buffer, 1, size)
                free(buffer)
                return minorFaults() - before
            }
            // The first touch maps the buffer. A thread that meets a busy arena may be moved to
            // another (tests run in parallel), so of four more touches, the best must be reuse;
            // without reuse every touch faults in all 9,766 pages.
            let faults = (0..<5).map { _ in touchFresh() }
            #expect(faults.dropFirst().min()! < size / 4096 / 10, "page faults per touch: \(faults)")
        #endif
    }

    #if canImport(Glibc)
        private func minorFaults() -> Int {
            var usage = rusage()
            getrusage(__rusage_who_t(1), &usage)  // RUSAGE_THREAD, which the Glibc module leaves out
            return usage.ru_minflt
        }
    #endif
}
