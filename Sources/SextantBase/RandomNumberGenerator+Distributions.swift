import Foundation

extension RandomNumberGenerator {
    /// A uniform double in [0, 1).
    @inlinable
    package mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal draw (Box-Muller; the second value is discarded for simplicity).
    package mutating func nextNormal(mean: Double = 0, standardDeviation: Double = 1) -> Double {
        var u1 = nextUnit()
        while u1 <= .leastNonzeroMagnitude { u1 = nextUnit() }
        let u2 = nextUnit()
        return mean + standardDeviation * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    /// An exponential draw with the given mean.
    package mutating func nextExponential(mean: Double) -> Double {
        var u = nextUnit()
        while u <= .leastNonzeroMagnitude { u = nextUnit() }
        return -mean * log(u)
    }

    /// A Gamma(shape, 1) draw (Marsaglia and Tsang; boosted for shape < 1).
    package mutating func nextGamma(shape: Double) -> Double {
        precondition(shape > 0, "Gamma shape must be positive")
        if shape < 1 {
            let boost = pow(max(nextUnit(), .leastNonzeroMagnitude), 1 / shape)
            return nextGamma(shape: shape + 1) * boost
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double
            var v: Double
            repeat {
                x = nextNormal()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = nextUnit()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if log(max(u, .leastNonzeroMagnitude)) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }

    /// A Dirichlet draw with the given concentration parameters.
    package mutating func nextDirichlet(_ alpha: [Double]) -> [Double] {
        var draws = alpha.map { nextGamma(shape: $0) }
        var total = draws.reduce(0, +)
        if total <= 0 {
            // All draws underflowed (tiny alphas): put the mass on one coordinate.
            draws = [Double](repeating: 0, count: alpha.count)
            draws[Int.random(in: 0..<alpha.count, using: &self)] = 1
            total = 1
        }
        return draws.map { $0 / total }
    }
}
