/// The models Sextant knows by name.
package enum ModelArchitecture: String, CaseIterable, Sendable, Codable {
    /// Multinomial logistic regression: one linear layer.
    case logreg
    /// Two hidden layers of 200 units with ReLU (784-200-200-10 on Fashion-MNIST).
    case mlp
    /// conv 5x5x32, maxpool 2, conv 5x5x64, maxpool 2, fc 512, fc 10: the CNN of the
    /// FedCompass MNIST experiments.
    case cnn
    /// 784-4096-1700-10, about 10.2M parameters: for measuring the system at a realistic
    /// model size (wire, aggregation, checkpoints, server memory).
    case mlpLarge = "mlp-large"

    /// Parses a name, with an error that lists the known models.
    package init(name: String) throws {
        guard let model = ModelArchitecture(rawValue: name.lowercased()) else {
            throw SextantMLError(
                code: .invalidArgument,
                "unknown model '\(name)'; known models: \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = model
    }

    /// This preset as a named ``ModelSpec``: the same layers, parameter layout, initial
    /// weights and fingerprint as the preset always had.
    package var spec: ModelSpec {
        let layers: [LayerSpec] =
            switch self {
            case .logreg: [.flatten, .linear(out: nil)]
            case .mlp: [.flatten, .linear(out: 200), .relu, .linear(out: 200), .relu, .linear(out: nil)]
            case .mlpLarge: [.flatten, .linear(out: 4096), .relu, .linear(out: 1700), .relu, .linear(out: nil)]
            case .cnn:
                [
                    .conv2d(out: 32, kernel: 5), .relu, .maxpool(kernel: 2),
                    .conv2d(out: 64, kernel: 5), .relu, .maxpool(kernel: 2),
                    .flatten, .linear(out: 512), .relu, .linear(out: nil),
                ]
            }
        return ModelSpec(name: rawValue, layers: layers)
    }

    /// The layers of this architecture for inputs of `shape` and `classCount` classes.
    package func makeLayers(input shape: FeatureShape, classCount: Int) -> [any Layer] {
        do {
            return try spec.makeLayers(input: shape, classCount: classCount)
        } catch {
            preconditionFailure("\(rawValue) on \(shape) inputs: \(error)")
        }
    }

    /// A network of this architecture with deterministic initial weights.
    package func makeNetwork(input shape: FeatureShape, classCount: Int, seed: UInt64) -> Network {
        Network(layers: makeLayers(input: shape, classCount: classCount), classCount: classCount, seed: seed)
    }

    /// A string that two parties compare to check they train the same model:
    /// architecture, input shape, classes and parameter count (``ModelSpec/fingerprint(input:classCount:)``).
    package func fingerprint(input shape: FeatureShape, classCount: Int) -> String {
        let count = makeLayers(input: shape, classCount: classCount).reduce(0) { $0 + $1.parameterCount }
        return "\(rawValue):\(shape):\(classCount):\(count)"
    }
}
