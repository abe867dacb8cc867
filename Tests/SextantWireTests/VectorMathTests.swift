import SextantBase
import Testing

@Suite("Vector maths")
struct VectorMathTests {
    @Test("a difference and its norm agree with plain loops, for every length around the eight-value steps")
    func differenceAndNorm() {
        for count in [0, 1, 7, 8, 9, 15, 16, 17, 1003] {
            let minuend = (0..<count).map { Float($0 % 17) * 0.25 - 2 }
            let subtrahend = (0..<count).map { Float($0 % 5) - 1.5 }
            var difference = [Float](repeating: .nan, count: count)
            let norm = minuend.withUnsafeBufferPointer { a in
                subtrahend.withUnsafeBufferPointer { b in
                    difference.withUnsafeMutableBufferPointer { VectorMath.difference(a, b, into: $0) }
                }
            }
            let expected = zip(minuend, subtrahend).map { $0 - $1 }
            #expect(difference == expected, "\(count) values")
            let plainNorm = expected.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            // Summation order differs: 1e-12 relative is far above Double rounding here.
            #expect(abs(norm - plainNorm) <= plainNorm * 1e-12, "\(count) values")
            #expect(norm == expected.withUnsafeBufferPointer(VectorMath.l2Norm), "\(count) values")
        }
    }
}
