/// A model declared as data: a list of layers and a task, read from a configuration (YAML or
/// JSON, through `Codable`) and built into a ``Network`` for inputs whose shape, and number of
/// classes, come from the data.
///
/// ```yaml
/// task: {type: classification}
/// layers:
///   - {type: conv2d, out: 16, kernel: 3, stride: 1, padding: 1}
///   - {type: relu}
///   - {type: maxpool, kernel: 2}
///   - {type: flatten}
///   - {type: dropout, p: 0.2}
///   - {type: linear}          # no `out`: the task's width (here, the number of classes)
/// ```
///
/// Shapes are inferred layer by layer; a spec that cannot be built fails with one
/// ``ModelSpecError`` naming the layer. The layers map one to one onto the modules of a PyTorch
/// `nn.Sequential` (see ``Network/parameterTensors``). The four presets of
/// ``ModelArchitecture`` are named specs (``ModelArchitecture/spec``).
package struct ModelSpec: Hashable, Sendable, Codable {
    /// A name for logs; a preset's name keeps the preset's fingerprint when its layers match.
    package var name: String?
    package var task: TaskSpec
    package var layers: [LayerSpec]

    package init(name: String? = nil, task: TaskSpec = TaskSpec(), layers: [LayerSpec]) {
        self.name = name
        self.task = task
        self.layers = layers
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        task = try container.decodeIfPresent(TaskSpec.self, forKey: .task) ?? TaskSpec()
        layers = try container.decode([LayerSpec].self, forKey: .layers)
    }

    /// The task for data of `classCount` classes (ignored by regression).
    package func resolvedTask(classCount: Int) throws -> LearningTask {
        try task.resolve(classCount: classCount)
    }

    /// The output shape of every layer for inputs of `input`, checking the spec.
    package func shapes(input: FeatureShape, classCount: Int) throws -> [FeatureShape] {
        try makeLayers(input: input, classCount: classCount).map(\.outputShape)
    }

    /// The layers for inputs of `input` and data of `classCount` classes.
    package func makeLayers(input: FeatureShape, classCount: Int) throws -> [any Layer] {
        let task = try resolvedTask(classCount: classCount)
        guard input.channels > 0 && input.height > 0 && input.width > 0 else {
            throw ModelSpecError(layer: nil, "the input shape \(input) is empty")
        }
        guard !layers.isEmpty else { throw ModelSpecError(layer: nil, "the model has no layers") }
        var shape = input
        var built: [any Layer] = []
        for (index, spec) in layers.enumerated() {
            let layer = try spec.makeLayer(input: shape, taskWidth: task.outputCount, index: index)
            built.append(layer)
            shape = layer.outputShape
        }
        if shape.count != task.outputCount {
            let hint =
                if case .linear(out: .some) = layers.last! {
                    " (leave out `out` on the last linear layer to take the task's width)"
                } else { "" }
            throw ModelSpecError(
                layer: (layers.count - 1, layers.last!.type),
                "outputs \(shape.count) values, the task (\(task)) needs \(task.outputCount)\(hint)")
        }
        return built
    }

    /// A network of this spec with deterministic initial weights.
    package func makeNetwork(input: FeatureShape, classCount: Int, seed: UInt64) throws -> Network {
        Network(
            layers: try makeLayers(input: input, classCount: classCount),
            task: try resolvedTask(classCount: classCount),
            seed: seed)
    }

    /// A string that two parties compare to check they train the same model.
    ///
    /// A preset's spec keeps the preset's form, `mlp:1x28x28:10:199210` (name, input shape,
    /// classes, parameter count), so existing checkpoints still match. Any other spec gives
    /// `spec-<16 hex digits>:<input>:<outputs>:<parameters>`, the digits a 64-bit FNV-1a hash of
    /// ``canonicalDescription``: every layer's type and every argument that changes the
    /// parameter layout or the function computed, and the task's kind. Dropout's `p` and the
    /// loss options are training settings, not part of the model, and are left out.
    package func fingerprint(input: FeatureShape, classCount: Int) throws -> String {
        let task = try resolvedTask(classCount: classCount)
        let count = try makeLayers(input: input, classCount: classCount).reduce(0) { $0 + $1.parameterCount }
        if let name, let preset = ModelArchitecture(rawValue: name), preset.spec.layers == layers,
            case .classification = task
        {
            return "\(preset.rawValue):\(input):\(classCount):\(count)"
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in canonicalDescription.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "spec-\(String(repeating: "0", count: 16 - hex.count) + hex):\(input):\(task.outputCount):\(count)"
    }

    /// The spec in one line, as hashed by ``fingerprint(input:classCount:)``:
    /// `classification|conv2d(16,3,1,1),relu,maxpool(2,2,0),flatten,dropout,linear(*)`.
    package var canonicalDescription: String {
        task.type.rawValue + (task.type == .regression ? "(\(task.outputs ?? 1))" : "") + "|"
            + layers.map(\.canonicalDescription).joined(separator: ",")
    }
}

/// A spec that cannot be built, naming the layer and the problem:
/// `layer 3 (conv2d): kernel 5 is larger than its 4x4 input`.
package struct ModelSpecError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The layer's index in the spec (from 0, as in the `nn.Sequential`), nil for the whole spec.
    package var layerIndex: Int?
    package var layerType: String?
    package var problem: String

    package init(layer: (index: Int, type: String)?, _ problem: String) {
        layerIndex = layer?.index
        layerType = layer?.type
        self.problem = problem
    }

    package var description: String {
        guard let layerIndex, let layerType else { return "model: \(problem)" }
        return "layer \(layerIndex) (\(layerType)): \(problem)"
    }
}

/// The task part of a ``ModelSpec``: `{type: classification}`, `{type: binary, positive_weight: 3}`,
/// `{type: regression, outputs: 1, loss: huber, delta: 1.0}`. The number of classes comes from the data.
package struct TaskSpec: Hashable, Sendable, Codable {
    package enum Kind: String, Hashable, Sendable, Codable {
        case classification, binary, regression
    }

    package var type: Kind
    /// Binary: the weight of the positive class's loss term (default 1).
    package var positiveWeight: Float?
    /// Regression: values predicted per example (default 1).
    package var outputs: Int?
    /// Regression: `mse` (default) or `huber`.
    package var loss: String?
    /// Regression with `huber`: where the loss turns linear (default 1, as in PyTorch).
    package var delta: Float?

    package init(
        type: Kind = .classification, positiveWeight: Float? = nil, outputs: Int? = nil, loss: String? = nil,
        delta: Float? = nil
    ) {
        self.type = type
        self.positiveWeight = positiveWeight
        self.outputs = outputs
        self.loss = loss
        self.delta = delta
    }

    enum CodingKeys: String, CodingKey {
        case type, outputs, loss, delta
        case positiveWeight = "positive_weight"
    }

    package func resolve(classCount: Int) throws -> LearningTask {
        func fail(_ problem: String) -> ModelSpecError {
            ModelSpecError(layer: nil, "task \(type.rawValue): \(problem)")
        }
        switch type {
        case .classification:
            guard classCount >= 2 else {
                throw fail("the data has \(classCount) classes, classification needs 2 or more")
            }
            return .classification(classes: classCount)
        case .binary:
            let weight = positiveWeight ?? 1
            guard weight > 0 && weight.isFinite else { throw fail("positive_weight \(weight) must be positive") }
            return .binary(positiveWeight: weight)
        case .regression:
            let width = outputs ?? 1
            guard width > 0 else { throw fail("outputs \(width) must be positive") }
            switch loss ?? "mse" {
            case "mse": return .regression(outputs: width, loss: .meanSquared)
            case "huber":
                let delta = delta ?? 1
                guard delta > 0 && delta.isFinite else { throw fail("delta \(delta) must be positive") }
                return .regression(outputs: width, loss: .huber(delta: delta))
            case let other: throw fail("unknown loss '\(other)'; known losses: mse, huber")
            }
        }
    }
}

/// One layer of a ``ModelSpec``, written `{type: <name>, <argument>: <value>, ...}`.
package enum LayerSpec: Hashable, Sendable, Codable {
    /// `nn.Linear(in, out)`; without `out`, the task's width.
    case linear(out: Int?)
    /// `nn.Conv2d(in, out, kernel, stride, padding)`.
    case conv2d(out: Int, kernel: Int, stride: Int = 1, padding: Int = 0)
    /// `nn.MaxPool2d(kernel, stride, padding)`; stride defaults to the kernel.
    case maxpool(kernel: Int, stride: Int? = nil, padding: Int = 0)
    /// `nn.AvgPool2d(kernel, stride, padding)` (padded zeros count).
    case avgpool(kernel: Int, stride: Int? = nil, padding: Int = 0)
    case flatten, relu, tanh, sigmoid, gelu
    /// `nn.LayerNorm` over each example's features (see ``LayerNorm`` for why not BatchNorm).
    case layernorm
    /// `nn.Dropout(p)`.
    case dropout(p: Double)

    /// The name written as `type`.
    package var type: String {
        switch self {
        case .linear: "linear"
        case .conv2d: "conv2d"
        case .maxpool: "maxpool"
        case .avgpool: "avgpool"
        case .flatten: "flatten"
        case .relu: "relu"
        case .tanh: "tanh"
        case .sigmoid: "sigmoid"
        case .gelu: "gelu"
        case .layernorm: "layernorm"
        case .dropout: "dropout"
        }
    }

    static let knownTypes = "linear, conv2d, maxpool, avgpool, flatten, relu, tanh, sigmoid, gelu, layernorm, dropout"

    var canonicalDescription: String {
        switch self {
        case .linear(let out): "linear(\(out.map(String.init) ?? "*"))"
        case .conv2d(let out, let kernel, let stride, let padding): "conv2d(\(out),\(kernel),\(stride),\(padding))"
        case .maxpool(let kernel, let stride, let padding): "maxpool(\(kernel),\(stride ?? kernel),\(padding))"
        case .avgpool(let kernel, let stride, let padding): "avgpool(\(kernel),\(stride ?? kernel),\(padding))"
        default: type
        }
    }

    /// Checks the layer against its input and builds it.
    func makeLayer(input: FeatureShape, taskWidth: Int, index: Int) throws -> any Layer {
        func fail(_ problem: String) -> ModelSpecError { ModelSpecError(layer: (index, type), problem) }
        func checkPositive(_ values: KeyValuePairs<String, Int>) throws {
            for (key, value) in values where value <= 0 { throw fail("\(key) \(value) must be positive") }
        }
        func window(kernel: Int, stride: Int, padding: Int, pooling: Bool) throws {
            try checkPositive(["kernel": kernel, "stride": stride])
            guard padding >= 0 else { throw fail("padding \(padding) must not be negative") }
            if pooling && padding > kernel / 2 {
                throw fail("padding \(padding) is more than half the kernel \(kernel)")
            }
            let flat = input.height == 1 && input.width == 1 ? " (a flat input: put image layers before flatten)" : ""
            let padded = padding == 0 ? "" : " padded by \(padding)"
            if input.height + 2 * padding < kernel || input.width + 2 * padding < kernel {
                throw fail("kernel \(kernel) is larger than its \(input.height)x\(input.width) input\(padded)\(flat)")
            }
        }
        switch self {
        case .linear(let out):
            let width = out ?? taskWidth
            try checkPositive(["out": width])
            guard input.height == 1 && input.width == 1 else {
                throw fail("needs a flat input, got \(input); put a flatten before it")
            }
            return Linear(inputs: input.count, outputs: width)
        case .conv2d(let out, let kernel, let stride, let padding):
            try checkPositive(["out": out])
            try window(kernel: kernel, stride: stride, padding: padding, pooling: false)
            return Conv2d(input: input, outChannels: out, kernel: kernel, stride: stride, padding: padding)
        case .maxpool(let kernel, let stride, let padding):
            try window(kernel: kernel, stride: stride ?? kernel, padding: padding, pooling: true)
            return MaxPool2d(shape: input, size: kernel, stride: stride, padding: padding)
        case .avgpool(let kernel, let stride, let padding):
            try window(kernel: kernel, stride: stride ?? kernel, padding: padding, pooling: true)
            return AvgPool2d(shape: input, size: kernel, stride: stride, padding: padding)
        case .flatten: return Flatten(shape: input)
        case .relu: return ReLU(shape: input)
        case .tanh: return Tanh(shape: input)
        case .sigmoid: return Sigmoid(shape: input)
        case .gelu: return GELU(shape: input)
        case .layernorm: return LayerNorm(shape: input)
        case .dropout(let p):
            guard p >= 0 && p < 1 else { throw fail("p \(p) must lie in [0, 1)") }
            return Dropout(shape: input, probability: Float(p))
        }
    }

    // MARK: - Codable: `{type: conv2d, out: 16, kernel: 3}`

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The arguments each type accepts.
    private static func arguments(of type: String) -> [String]? {
        switch type {
        case "linear": ["out"]
        case "conv2d": ["out", "kernel", "stride", "padding"]
        case "maxpool", "avgpool": ["kernel", "stride", "padding"]
        case "flatten", "relu", "tanh", "sigmoid", "gelu", "layernorm": []
        case "dropout": ["p"]
        default: nil
        }
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        let type = try container.decode(String.self, forKey: Key("type")).lowercased()
        guard let allowed = Self.arguments(of: type) else {
            throw DecodingError.dataCorruptedError(
                forKey: Key("type"), in: container,
                debugDescription: "unknown layer type '\(type)'; known types: \(Self.knownTypes)")
        }
        for key in container.allKeys where key.stringValue != "type" && !allowed.contains(key.stringValue) {
            let known = allowed.isEmpty ? "it takes no arguments" : "it takes \(allowed.joined(separator: ", "))"
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container, debugDescription: "\(type) has no argument '\(key.stringValue)'; \(known)")
        }
        func int(_ name: String) throws -> Int? { try container.decodeIfPresent(Int.self, forKey: Key(name)) }
        func required(_ name: String) throws -> Int {
            guard let value = try int(name) else {
                throw DecodingError.keyNotFound(
                    Key(name), .init(codingPath: container.codingPath, debugDescription: "\(type) needs '\(name)'"))
            }
            return value
        }
        switch type {
        case "linear": self = .linear(out: try int("out"))
        case "conv2d":
            self = .conv2d(
                out: try required("out"), kernel: try required("kernel"), stride: try int("stride") ?? 1,
                padding: try int("padding") ?? 0)
        case "maxpool":
            self = .maxpool(kernel: try required("kernel"), stride: try int("stride"), padding: try int("padding") ?? 0)
        case "avgpool":
            self = .avgpool(kernel: try required("kernel"), stride: try int("stride"), padding: try int("padding") ?? 0)
        case "flatten": self = .flatten
        case "relu": self = .relu
        case "tanh": self = .tanh
        case "sigmoid": self = .sigmoid
        case "gelu": self = .gelu
        case "layernorm": self = .layernorm
        default: self = .dropout(p: try container.decode(Double.self, forKey: Key("p")))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(type, forKey: Key("type"))
        switch self {
        case .linear(let out): try container.encodeIfPresent(out, forKey: Key("out"))
        case .conv2d(let out, let kernel, let stride, let padding):
            try container.encode(out, forKey: Key("out"))
            try container.encode(kernel, forKey: Key("kernel"))
            try container.encode(stride, forKey: Key("stride"))
            try container.encode(padding, forKey: Key("padding"))
        case .maxpool(let kernel, let stride, let padding), .avgpool(let kernel, let stride, let padding):
            try container.encode(kernel, forKey: Key("kernel"))
            try container.encodeIfPresent(stride, forKey: Key("stride"))
            try container.encode(padding, forKey: Key("padding"))
        case .dropout(let p): try container.encode(p, forKey: Key("p"))
        case .flatten, .relu, .tanh, .sigmoid, .gelu, .layernorm: break
        }
    }
}
