/// The adaptive server optimizers of Reddi et al. 2021 ("Adaptive Federated Optimization"):
/// the aggregated delta `g` of an event is a pseudo-gradient step, and the server keeps two
/// moment vectors `m` and `v` (one model-sized vector each) across events:
///
///     m = beta1 m + (1 - beta1) g
///     v = v + g^2                                   (FedAdagrad)
///     v = beta2 v + (1 - beta2) g^2                 (FedAdam)
///     v = v - (1 - beta2) g^2 sign(v - g^2)         (FedYogi)
///     w = w + eta m / (sqrt(v) + tau)
///
/// element by element, with `m` starting at zero and `v` at `tau^2` (the paper's
/// `v_{-1} >= tau^2`), and no bias correction, as in the paper's Algorithm 2. `tau`
/// bounds the adaptivity: the step of one coordinate is at most `eta |m| / tau`.
package struct AdaptiveServerOptimizer: Sendable, Hashable, Codable {
    package enum Rule: String, Sendable, Hashable, Codable, CaseIterable {
        case fedadam, fedyogi, fedadagrad
    }

    package var rule: Rule
    /// The server learning rate `eta`.
    package var learningRate: Double
    package var beta1: Double
    /// Unused by FedAdagrad.
    package var beta2: Double
    package var tau: Double

    package init(rule: Rule, learningRate: Double = 0.01, beta1: Double = 0.9, beta2: Double = 0.99, tau: Double = 1e-3)
    {
        self.rule = rule
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.tau = tau
    }

    /// One server step: updates `first` (m) and `second` (v) from `g` and moves `model`.
    package func step(
        _ g: UnsafeBufferPointer<Float>, first: UnsafeMutableBufferPointer<Float>,
        second: UnsafeMutableBufferPointer<Float>, model: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(
            g.count == model.count && first.count == model.count && second.count == model.count,
            "server optimizer vectors differ in length")
        let (b1, b2, eta, tau) = (Float(beta1), Float(beta2), Float(learningRate), Float(tau))
        for i in 0..<model.count {
            let gi = g[i]
            let squared = gi * gi
            first[i] = b1 * first[i] + (1 - b1) * gi
            switch rule {
            case .fedadagrad: second[i] += squared
            case .fedadam: second[i] = b2 * second[i] + (1 - b2) * squared
            case .fedyogi:
                let difference = second[i] - squared
                let sign: Float = difference > 0 ? 1 : (difference < 0 ? -1 : 0)
                second[i] -= (1 - b2) * squared * sign
            }
            model[i] += eta * first[i] / (second[i].squareRoot() + tau)
        }
    }
}
