/// Updates a flat parameter vector from its flat gradient.
package protocol Optimizer: Sendable {
    var learningRate: Float { get set }
    mutating func update(_ parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>)
    /// Forgets momentum and moment estimates (a client does so when it receives a new global model).
    mutating func reset()
}

/// Stochastic gradient descent with optional momentum and L2 weight decay, with
/// PyTorch's conventions: `v = mu v + (g + wd w)`, `w -= lr v`.
package struct SGD: Optimizer {
    package var learningRate: Float
    package var momentum: Float
    package var weightDecay: Float
    private var velocity: [Float] = []

    package init(learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    package mutating func update(_ parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>)
    {
        precondition(parameters.count == gradients.count, "parameters and gradients differ in length")
        let (lr, mu, wd) = (learningRate, momentum, weightDecay)
        if mu == 0 {
            for i in parameters.indices {
                parameters[i] -= lr * (gradients[i] + wd * parameters[i])
            }
            return
        }
        if velocity.count != parameters.count {
            velocity = Array(repeating: 0, count: parameters.count)
        }
        velocity.withUnsafeMutableBufferPointer { v in
            for i in parameters.indices {
                v[i] = mu * v[i] + gradients[i] + wd * parameters[i]
                parameters[i] -= lr * v[i]
            }
        }
    }

    package mutating func reset() {
        velocity = []
    }
}

/// Adam (Kingma and Ba 2015) with bias correction and optional L2 weight decay.
package struct Adam: Optimizer {
    package var learningRate: Float
    package var beta1: Float
    package var beta2: Float
    package var epsilon: Float
    package var weightDecay: Float
    private var first: [Float] = []
    private var second: [Float] = []
    private var step = 0

    package init(
        learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        weightDecay: Float = 0
    ) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    package mutating func update(_ parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>)
    {
        precondition(parameters.count == gradients.count, "parameters and gradients differ in length")
        if first.count != parameters.count {
            first = Array(repeating: 0, count: parameters.count)
            second = Array(repeating: 0, count: parameters.count)
            step = 0
        }
        step += 1
        let (b1, b2, eps, wd) = (beta1, beta2, epsilon, weightDecay)
        let correction1 = 1 - Float(Double(b1).power(step))
        let correction2 = 1 - Float(Double(b2).power(step))
        let stepSize = learningRate / correction1
        first.withUnsafeMutableBufferPointer { m in
            second.withUnsafeMutableBufferPointer { v in
                for i in parameters.indices {
                    let g = gradients[i] + wd * parameters[i]
                    m[i] = b1 * m[i] + (1 - b1) * g
                    v[i] = b2 * v[i] + (1 - b2) * g * g
                    parameters[i] -= stepSize * m[i] / ((v[i] / correction2).squareRoot() + eps)
                }
            }
        }
    }

    package mutating func reset() {
        first = []
        second = []
        step = 0
    }
}

extension Double {
    fileprivate func power(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<exponent { result *= self }
        return result
    }
}
