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

    /// The layers of this architecture for inputs of `shape` and `classCount` classes.
    package func makeLayers(input shape: FeatureShape, classCount: Int) -> [any Layer] {
        switch self {
        case .logreg:
            return [Flatten(shape: shape), Linear(inputs: shape.count, outputs: classCount)]
        case .mlp:
            return [
                Flatten(shape: shape),
                Linear(inputs: shape.count, outputs: 200), ReLU(shape: FeatureShape(channels: 200)),
                Linear(inputs: 200, outputs: 200), ReLU(shape: FeatureShape(channels: 200)),
                Linear(inputs: 200, outputs: classCount),
            ]
        case .mlpLarge:
            return [
                Flatten(shape: shape),
                Linear(inputs: shape.count, outputs: 4096), ReLU(shape: FeatureShape(channels: 4096)),
                Linear(inputs: 4096, outputs: 1700), ReLU(shape: FeatureShape(channels: 1700)),
                Linear(inputs: 1700, outputs: classCount),
            ]
        case .cnn:
            let conv1 = Conv2d(input: shape, outChannels: 32, kernel: 5)
            let pool1 = MaxPool2d(shape: conv1.outputShape)
            let conv2 = Conv2d(input: pool1.outputShape, outChannels: 64, kernel: 5)
            let pool2 = MaxPool2d(shape: conv2.outputShape)
            let flat = pool2.outputShape.count
            return [
                conv1, ReLU(shape: conv1.outputShape), pool1,
                conv2, ReLU(shape: conv2.outputShape), pool2,
                Flatten(shape: pool2.outputShape),
                Linear(inputs: flat, outputs: 512), ReLU(shape: FeatureShape(channels: 512)),
                Linear(inputs: 512, outputs: classCount),
            ]
        }
    }

    /// A network of this architecture with deterministic initial weights.
    package func makeNetwork(input shape: FeatureShape, classCount: Int, seed: UInt64) -> Network {
        Network(layers: makeLayers(input: shape, classCount: classCount), classCount: classCount, seed: seed)
    }

    /// A string that two parties compare to check they train the same model:
    /// architecture, input shape, classes and parameter count.
    package func fingerprint(input shape: FeatureShape, classCount: Int) -> String {
        let count = makeLayers(input: shape, classCount: classCount).reduce(0) { $0 + $1.parameterCount }
        return "\(rawValue):\(shape):\(classCount):\(count)"
    }
}
