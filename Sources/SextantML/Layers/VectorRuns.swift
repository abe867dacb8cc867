/// Short contiguous runs of floats (an im2col row segment is often 8 to 24 values), done
/// eight lanes at a time without a library call or an aliasing check per run.
enum VectorRuns {
    typealias Lanes = SIMD8<Float>

    @inline(__always)
    static func load(_ pointer: UnsafePointer<Float>) -> Lanes {
        UnsafeRawPointer(pointer).loadUnaligned(as: Lanes.self)
    }

    @inline(__always)
    static func store(_ value: Lanes, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: Lanes.self)
    }

    /// `destination[i] = source[i]` for `i < count`.
    @inline(__always)
    static func copy(_ source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            store(load(source + i), destination + i)
            i += 8
        }
        while i < count {
            destination[i] = source[i]
            i += 1
        }
    }

    /// `destination[i] += source[i]` for `i < count`.
    @inline(__always)
    static func add(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            store(load(destination + i) + load(source + i), destination + i)
            i += 8
        }
        while i < count {
            destination[i] += source[i]
            i += 1
        }
    }
}
