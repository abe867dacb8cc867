import Foundation
import SextantML

/// Finite-difference checks of analytic gradients.
///
/// The numeric derivative is the central difference
/// `(f(x + h e_i) - f(x - h e_i)) / (x_i⁺ - x_i⁻)`, where the denominator is the actual
/// distance between the two perturbed Float32 values (not `2h`, which the rounding of
/// `x_i ± h` would make slightly wrong). A coordinate passes when
/// `|analytic - numeric| <= absoluteTolerance + relativeTolerance * max(|analytic|, |numeric|)`:
/// the absolute term absorbs the Float32 rounding noise of the loss divided by `2h`
/// (which dominates for near-zero derivatives), the relative term the truncation error.
package enum GradientCheck {
    /// One checked coordinate.
    package struct Coordinate: Sendable, CustomStringConvertible {
        package var index: Int
        package var analytic: Double
        package var numeric: Double

        package var absoluteError: Double { abs(analytic - numeric) }
        /// `|a - n| / max(|a|, |n|)`, 0 when both are 0.
        package var relativeError: Double {
            let scale = max(abs(analytic), abs(numeric))
            return scale == 0 ? 0 : absoluteError / scale
        }

        package var description: String {
            "[\(index)] analytic \(analytic) numeric \(numeric) (relative error \(relativeError))"
        }
    }

    /// The outcome of a check over a set of coordinates.
    package struct Report: Sendable, CustomStringConvertible {
        package var coordinates: [Coordinate]
        package var relativeTolerance: Double
        package var absoluteTolerance: Double

        /// The coordinates outside the tolerance.
        package var failures: [Coordinate] {
            coordinates.filter {
                !($0.absoluteError <= absoluteTolerance + relativeTolerance * max(abs($0.analytic), abs($0.numeric)))
            }
        }

        /// True when at least one coordinate was checked and none failed.
        package var passed: Bool { !coordinates.isEmpty && failures.isEmpty }

        /// The largest |numeric derivative|: a check whose derivatives are all ~0 proves little.
        package var largestMagnitude: Double { coordinates.map { abs($0.numeric) }.max() ?? 0 }

        package var maxRelativeError: Double { coordinates.map(\.relativeError).max() ?? 0 }

        package var description: String {
            let failed = failures
            var text =
                "\(coordinates.count) coordinates, \(failed.count) outside tolerance "
                + "(rtol \(relativeTolerance), atol \(absoluteTolerance)); max relative error \(maxRelativeError)"
            for coordinate in failed.prefix(8) { text += "\n  \(coordinate)" }
            return text
        }
    }

    /// The central-difference derivative of `loss` along `coordinate` at `point`.
    package static func numericDerivative(
        of loss: ([Float]) -> Double, at point: [Float], coordinate: Int, epsilon: Float
    ) -> Double {
        var shifted = point
        let plus = point[coordinate] + epsilon
        let minus = point[coordinate] - epsilon
        shifted[coordinate] = plus
        let up = loss(shifted)
        shifted[coordinate] = minus
        let down = loss(shifted)
        return (up - down) / (Double(plus) - Double(minus))
    }

    /// Compares `analytic` (the gradient of `loss` at `point`) with central differences at `coordinates`.
    package static func check(
        loss: ([Float]) -> Double, at point: [Float], analytic: [Float], coordinates: [Int],
        epsilon: Float, relativeTolerance: Double, absoluteTolerance: Double
    ) -> Report {
        precondition(point.count == analytic.count, "the gradient and the point differ in length")
        let checked = coordinates.map { index in
            Coordinate(
                index: index, analytic: Double(analytic[index]),
                numeric: numericDerivative(of: loss, at: point, coordinate: index, epsilon: epsilon))
        }
        return Report(coordinates: checked, relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance)
    }

    /// Up to `count` distinct indices of `0..<total`, chosen with `seed` and sorted
    /// (all of them when `count >= total`).
    package static func sampleCoordinates(_ count: Int, of total: Int, seed: UInt64) -> [Int] {
        guard count < total else { return Array(0..<total) }
        var generator = SeededGenerator(seed: seed)
        return Array(Array(0..<total).shuffled(using: &generator).prefix(count)).sorted()
    }

    /// `count` uniform values in `range`, reproducible from `seed`.
    package static func randomValues(_ count: Int, in range: ClosedRange<Float> = -1...1, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float.random(in: range, using: &generator) }
    }

    /// `count` values whose magnitudes lie in `minimumMagnitude...maximumMagnitude` with a
    /// random sign: inputs kept away from the kink of a ReLU.
    package static func valuesAwayFromZero(
        _ count: Int, minimumMagnitude: Float, maximumMagnitude: Float = 1, seed: UInt64
    ) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            let magnitude = Float.random(in: minimumMagnitude...maximumMagnitude, using: &generator)
            return Bool.random(using: &generator) ? magnitude : -magnitude
        }
    }
}
