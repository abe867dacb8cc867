import Foundation
import SextantML
import SextantTestSupport
import Testing

/// A layer that delegates to another but corrupts its backward pass, to show the gradient
/// checks catch the kinds of bugs they exist for.
private final class Sabotaged: Layer {
    enum Fault { case inputGradientOffByOne, biasGradientDropped, inputGradientScaled }
    let inner: any Layer
    let fault: Fault

    init(_ inner: any Layer, _ fault: Fault) {
        self.inner = inner
        self.fault = fault
    }

    var summary: String { "sabotaged \(inner.summary)" }
    var inputShape: FeatureShape { inner.inputShape }
    var outputShape: FeatureShape { inner.outputShape }
    var parameterCount: Int { inner.parameterCount }

    func initializeParameters(_ parameters: UnsafeMutableBufferPointer<Float>, using generator: inout SeededGenerator) {
        inner.initializeParameters(parameters, using: &generator)
    }

    func forward(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, batchSize: Int,
        parameters: UnsafePointer<Float>
    ) {
        inner.forward(input, into: output, batchSize: batchSize, parameters: parameters)
    }

    func backward(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        batchSize: Int, parameters: UnsafePointer<Float>, parameterGradients: UnsafeMutablePointer<Float>
    ) {
        inner.backward(
            input: input, outputGradient: outputGradient, inputGradient: inputGradient, batchSize: batchSize,
            parameters: parameters, parameterGradients: parameterGradients)
        let n = batchSize * inputShape.count
        switch fault {
        case .inputGradientOffByOne:
            guard let inputGradient else { return }
            let copy = Array(UnsafeBufferPointer(start: inputGradient, count: n))
            for i in 0..<n { inputGradient[i] = copy[(i + 1) % n] }
        case .inputGradientScaled:
            guard let inputGradient else { return }
            for i in 0..<n { inputGradient[i] *= 1.05 }
        case .biasGradientDropped:
            let outputs = outputShape.channels
            (parameterGradients + parameterCount - outputs).initialize(repeating: 0, count: outputs)
        }
    }

    func trainingFlops(batchSize: Int, computesInputGradient: Bool) -> Double { 0 }
}

@Suite("Gradient check helpers")
struct GradientCheckSelfTests {
    @Test func acceptsCorrectAndRejectsWrongGradients() {
        let loss: ([Float]) -> Double = { x in x.reduce(0.0) { $0 + Double($1) * Double($1) * Double($1) } }
        let point: [Float] = [0.5, -1, 2, 0.25]
        let exact = point.map { 3 * $0 * $0 }
        let good = GradientCheck.check(
            loss: loss, at: point, analytic: exact, coordinates: [0, 1, 2, 3], epsilon: 1e-2,
            relativeTolerance: 1e-2, absoluteTolerance: 1e-4)
        #expect(good.passed, "\(good)")
        var wrong = exact
        wrong[2] *= 1.03
        let bad = GradientCheck.check(
            loss: loss, at: point, analytic: wrong, coordinates: [0, 1, 2, 3], epsilon: 1e-2,
            relativeTolerance: 1e-2, absoluteTolerance: 1e-4)
        #expect(!bad.passed)
        #expect(bad.failures.map(\.index) == [2])
        // No coordinates checked is not a pass.
        #expect(
            !GradientCheck.check(
                loss: loss, at: point, analytic: exact, coordinates: [], epsilon: 1e-2,
                relativeTolerance: 1e-2, absoluteTolerance: 1e-4
            ).passed)
    }

    @Test func sampleCoordinatesAreDistinctAndReproducible() {
        let a = GradientCheck.sampleCoordinates(10, of: 50, seed: 1)
        #expect(a == GradientCheck.sampleCoordinates(10, of: 50, seed: 1))
        #expect(Set(a).count == 10)
        #expect(a.allSatisfy { (0..<50).contains($0) })
        #expect(GradientCheck.sampleCoordinates(10, of: 4, seed: 1) == [0, 1, 2, 3])
    }

    @Test(arguments: [Sabotaged.Fault.inputGradientOffByOne, .inputGradientScaled, .biasGradientDropped])
    fileprivate func layerChecksCatchBrokenBackwardPasses(_ fault: Sabotaged.Fault) {
        let conv = Conv2d(input: FeatureShape(channels: 2, height: 4, width: 4), outChannels: 3, kernel: 3, padding: 1)
        let layer = Sabotaged(conv, fault)
        let check = LayerGradientCheck(
            layer: layer, batchSize: 2, input: GradientCheck.randomValues(2 * conv.inputShape.count, seed: 1), seed: 2)
        let input = check.checkInputGradient(
            samples: 200, epsilon: 1e-2, relativeTolerance: 1e-2, absoluteTolerance: 1e-4)
        let parameters = check.checkParameterGradient(
            samples: 200, epsilon: 1e-2, relativeTolerance: 1e-2, absoluteTolerance: 1e-4)
        switch fault {
        case .inputGradientOffByOne, .inputGradientScaled:
            #expect(!input.passed)
            #expect(parameters.passed)
        case .biasGradientDropped:
            #expect(input.passed)
            #expect(!parameters.passed)
        }
    }

    @Test func temporaryDirectoryIsRemoved() throws {
        var path = ""
        do {
            let directory = try TemporaryDirectory(prefix: "sextant-ml-self-test")
            path = directory.url.path
            try directory.write([1, 2, 3], to: "file")
            #expect(FileManager.default.fileExists(atPath: directory.url(for: "file").path))
        }
        #expect(!path.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: path))
        let seen = try TemporaryDirectory.with { url -> String in
            #expect(FileManager.default.fileExists(atPath: url.path))
            return url.path
        }
        #expect(!FileManager.default.fileExists(atPath: seen))
    }
}
