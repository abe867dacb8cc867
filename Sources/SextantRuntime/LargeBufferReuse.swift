#if canImport(Glibc)
    import Glibc
#endif

/// Keeps freed large buffers in the process for the next message of the same size.
///
/// glibc serves every allocation above 32 MiB (its largest mmap threshold) with a fresh
/// `mmap`, so each 40 MB model or delta that libzmq receives lands in pages the kernel must
/// fault in and zero, 10,000 of them per message: with a 10.2M-parameter model that was 22%
/// of the server's CPU per update (README, "Measured on this machine"). With mmap off and
/// a high trim threshold, a freed buffer stays in the heap and the next message reuses it.
/// The price is that the process keeps its peak heap resident (a 10.2M-parameter server:
/// about 730 MiB instead of 530 MiB with 16 clients).
package enum LargeBufferReuse {
    /// Freed memory at the top of the heap kept rather than returned to the kernel.
    package static let retainedBytes: Int32 = 1 << 30

    /// Turns reuse on for this process; returns false where the C library has no `mallopt`.
    @discardableResult
    package static func enable() -> Bool {
        #if canImport(Glibc)
            // `mallopt` is not in Swift's Glibc module; its parameters are glibc's ABI.
            typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
            let mmapMax: Int32 = -4
            let trimThreshold: Int32 = -1
            guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "mallopt") else { return false }
            let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
            return mallopt(mmapMax, 0) == 1 && mallopt(trimThreshold, retainedBytes) == 1
        #else
            return false
        #endif
    }
}
