import SextantML

/// Checks one ``Layer``'s backward pass against finite differences of its forward pass.
///
/// The scalar under test is `L = Σ_k r_k y_k`, a fixed random projection `r` of the
/// layer's output `y` accumulated in Double, so that `dL/dy = r` is what backward receives
/// and the parameter and input gradients it returns should be `dL/dθ` and `dL/dx`.
/// For layers that are linear in what is perturbed (Linear, Conv2d) or piecewise linear
/// away from their kinks (ReLU, MaxPool2d, Flatten), `L` has no curvature along the
/// perturbation, so central differences carry only Float32 rounding error.
package struct LayerGradientCheck {
    package let layer: any Layer
    package let batchSize: Int
    package let input: [Float]
    package let parameters: [Float]
    package let projection: [Float]

    /// `input` holds `batchSize` examples; parameters default to the layer's own initialisation.
    package init(layer: any Layer, batchSize: Int, input: [Float], parameters: [Float]? = nil, seed: UInt64) {
        precondition(input.count == batchSize * layer.inputShape.count, "input does not match the layer and batch size")
        self.layer = layer
        self.batchSize = batchSize
        self.input = input
        if let parameters {
            precondition(parameters.count == layer.parameterCount, "wrong number of parameters")
            self.parameters = parameters
        } else {
            var values = [Float](repeating: 0, count: layer.parameterCount)
            var generator = SeededGenerator(seed: seed &+ 1)
            values.withUnsafeMutableBufferPointer { layer.initializeParameters($0, using: &generator) }
            self.parameters = values
        }
        projection = GradientCheck.randomValues(batchSize * layer.outputShape.count, seed: seed &+ 2)
    }

    /// The layer's output for `input` and `parameters`.
    package func output(input: [Float], parameters: [Float]) -> [Float] {
        var output = [Float](repeating: 0, count: batchSize * layer.outputShape.count)
        // A zero-length array may have no storage; hand layers a valid pointer anyway.
        let parameterStorage = parameters.isEmpty ? [0] : parameters
        input.withUnsafeBufferPointer { x in
            parameterStorage.withUnsafeBufferPointer { p in
                output.withUnsafeMutableBufferPointer { y in
                    layer.forward(
                        x.baseAddress!, into: y.baseAddress!, batchSize: batchSize, parameters: p.baseAddress!)
                }
            }
        }
        return output
    }

    /// `L = Σ r_k y_k` in Double.
    package func loss(input: [Float], parameters: [Float]) -> Double {
        zip(output(input: input, parameters: parameters), projection).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// The gradients backward reports after a forward pass at the check's point.
    package func analyticGradients() -> (input: [Float], parameters: [Float]) {
        _ = output(input: input, parameters: parameters)
        var inputGradient = [Float](repeating: .nan, count: input.count)
        var parameterGradient = [Float](repeating: .nan, count: max(parameters.count, 1))
        let parameterStorage = parameters.isEmpty ? [0] : parameters
        input.withUnsafeBufferPointer { x in
            parameterStorage.withUnsafeBufferPointer { p in
                projection.withUnsafeBufferPointer { r in
                    inputGradient.withUnsafeMutableBufferPointer { dx in
                        parameterGradient.withUnsafeMutableBufferPointer { dp in
                            layer.backward(
                                input: x.baseAddress!, outputGradient: r.baseAddress!, inputGradient: dx.baseAddress!,
                                batchSize: batchSize, parameters: p.baseAddress!, parameterGradients: dp.baseAddress!)
                        }
                    }
                }
            }
        }
        return (inputGradient, Array(parameterGradient.prefix(parameters.count)))
    }

    /// Checks the input gradient at `samples` random coordinates (all when there are fewer).
    package func checkInputGradient(
        samples: Int, epsilon: Float, relativeTolerance: Double, absoluteTolerance: Double, seed: UInt64 = 7
    ) -> GradientCheck.Report {
        GradientCheck.check(
            loss: { loss(input: $0, parameters: parameters) }, at: input, analytic: analyticGradients().input,
            coordinates: GradientCheck.sampleCoordinates(samples, of: input.count, seed: seed),
            epsilon: epsilon, relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance)
    }

    /// Checks the parameter gradient at `samples` random coordinates (all when there are fewer).
    package func checkParameterGradient(
        samples: Int, epsilon: Float, relativeTolerance: Double, absoluteTolerance: Double, seed: UInt64 = 11
    ) -> GradientCheck.Report {
        GradientCheck.check(
            loss: { loss(input: input, parameters: $0) }, at: parameters, analytic: analyticGradients().parameters,
            coordinates: GradientCheck.sampleCoordinates(samples, of: parameters.count, seed: seed),
            epsilon: epsilon, relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance)
    }
}
