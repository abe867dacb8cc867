import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A cryptographically secure random number generator that reads the operating system's
/// entropy source in bulk: `getrandom(2)` where the C library has it, `/dev/urandom`
/// otherwise (`arc4random_buf` on Darwin).
///
/// DP noise must be unpredictable to an adversary; a seeded or statistical generator would
/// let anyone who learns the seed subtract the noise. Reading 32 KiB at a time costs one
/// system call per 4096 draws instead of one per draw, so noising a model with millions of
/// parameters is bound by the normal transform, not by the kernel.
///
/// Copies of a `SecureRandom` share one buffer, so a copy never replays bytes another copy
/// has handed out. For the same reason it is *not* `Sendable`: make one per task or thread.
/// The buffer is zeroed when the generator is released.
package struct SecureRandom: RandomNumberGenerator {
    @usableFromInline let storage: Storage

    /// A generator reading the OS entropy source.
    /// - Throws: ``PrivacyError/Code/randomSourceUnavailable`` if no source can be read.
    package init() throws(PrivacyError) {
        storage = try Storage()
    }

    /// The next 64 random bits.
    @inlinable
    package mutating func next() -> UInt64 {
        storage.next()
    }

    /// Fills `buffer` with random bytes straight from the OS, bypassing the internal buffer.
    package mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        do {
            try storage.source.read(into: buffer)
        } catch {
            preconditionFailure("the OS random source failed after it had worked: \(error)")
        }
    }

    @usableFromInline
    final class Storage {
        @usableFromInline static let capacity = 4096
        @usableFromInline let words: UnsafeMutablePointer<UInt64>
        @usableFromInline var index: Int
        let source: EntropySource

        init() throws(PrivacyError) {
            source = try EntropySource()
            words = .allocate(capacity: Self.capacity)
            index = Self.capacity
            // Read once now so that a broken source fails here, where it can be reported.
            try refill()
        }

        deinit {
            words.update(repeating: 0, count: Self.capacity)
            words.deallocate()
        }

        @inlinable
        func next() -> UInt64 {
            if index == Self.capacity { refillOrTrap() }
            let value = words[index]
            index += 1
            return value
        }

        @usableFromInline
        func refillOrTrap() {
            do {
                try refill()
            } catch {
                // A generator cannot throw from next(); silently weaker noise would be worse than stopping.
                preconditionFailure("the OS random source failed after it had worked: \(error)")
            }
        }

        func refill() throws(PrivacyError) {
            try source.read(into: UnsafeMutableRawBufferPointer(start: words, count: Self.capacity * 8))
            index = 0
        }
    }
}

@available(*, unavailable, message: "SecureRandom shares a buffer between copies; make one per task")
extension SecureRandom: Sendable {}

/// The OS call behind ``SecureRandom``.
final class EntropySource {
    private typealias GetRandom = @convention(c) (UnsafeMutableRawPointer?, Int, UInt32) -> Int

    #if canImport(Glibc)
        /// glibc's `getrandom` (2.25+); Swift's Glibc module does not import `<sys/random.h>`,
        /// so it is looked up by name.
        private let getRandom: GetRandom?
        private var fileDescriptor: Int32 = -1
    #endif

    init() throws(PrivacyError) {
        #if canImport(Glibc)
            if let symbol = dlsym(nil, "getrandom") {
                getRandom = unsafeBitCast(symbol, to: GetRandom.self)
            } else {
                getRandom = nil
                fileDescriptor = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
                guard fileDescriptor >= 0 else {
                    throw PrivacyError(
                        .randomSourceUnavailable,
                        "getrandom(2) is unavailable and /dev/urandom cannot be opened: \(String(cString: strerror(errno)))"
                    )
                }
            }
        #endif
    }

    deinit {
        #if canImport(Glibc)
            if fileDescriptor >= 0 { close(fileDescriptor) }
        #endif
    }

    /// Fills the whole buffer, retrying short reads and `EINTR`.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(PrivacyError) {
        guard var address = buffer.baseAddress else { return }
        var remaining = buffer.count
        #if canImport(Glibc)
            while remaining > 0 {
                let count: Int
                if let getRandom {
                    count = getRandom(address, remaining, 0)
                } else {
                    count = Glibc.read(fileDescriptor, address, remaining)
                }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw PrivacyError(
                        .randomSourceUnavailable,
                        "reading the OS random source failed: \(String(cString: strerror(errno)))")
                }
                if count == 0 { throw PrivacyError(.randomSourceUnavailable, "the OS random source returned no bytes") }
                address += count
                remaining -= count
            }
        #elseif canImport(Darwin)
            arc4random_buf(address, remaining)
        #endif
    }
}
