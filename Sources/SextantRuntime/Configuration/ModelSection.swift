import SextantML

/// The YAML `model` key: a preset's name (`model: mlp`), or a model declared layer by layer
/// (docs/design.md 1; the layers and tasks of ``ModelSpec``):
///
/// ```yaml
/// model:
///   name: tabular-mlp          # optional, for logs
///   task: {type: binary, positive_weight: 2}
///   layers:
///     - {type: linear, out: 32}
///     - {type: relu}
///     - {type: linear}         # the task's width
/// ```
///
/// `model: {preset: cnn}` (or `{name: cnn}` without layers) names a preset too. The input
/// shape and the number of classes come from the data. `initial_weights: FILE.safetensors`
/// (as `sextant checkpoints export` writes) makes a new run's version 0 those tensors
/// instead of seeded random weights (docs/design.md 12).
package struct ModelSection: Sendable, Decodable {
    package var spec: ModelSpec
    package var initialWeights: String?

    package init(spec: ModelSpec, initialWeights: String? = nil) {
        self.spec = spec
        self.initialWeights = initialWeights
    }

    /// A preset by name, or an error that lists the presets.
    package init(preset name: String) throws {
        do {
            spec = try ModelArchitecture(name: name).spec
        } catch let error as SextantMLError {
            throw RuntimeError(.invalidConfiguration, "key 'model': \(error.message)")
        }
    }

    static let keys = KeySchema.value

    enum CodingKeys: String, CodingKey {
        case preset, name, task, layers
        case initialWeights = "initial_weights"
    }

    package init(from decoder: any Decoder) throws {
        if let name = try? decoder.singleValueContainer().decode(String.self) {
            try self.init(preset: name)
            return
        }
        let unknown = try decoder.container(keyedBy: NamedKey.self).allKeys.map(\.stringValue)
            .filter { CodingKeys(stringValue: $0) == nil }.sorted()
        guard unknown.isEmpty else {
            throw RuntimeError(
                .invalidConfiguration,
                "key 'model': unknown keys \(unknown.joined(separator: ", ")); allowed: preset, name, task, layers, initial_weights"
            )
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let weights = try c.decodeIfPresent(String.self, forKey: .initialWeights)
        // `{name: mlp}` without layers is the preset of that name.
        let named = c.contains(.layers) ? nil : try c.decodeIfPresent(String.self, forKey: .name)
        if let preset = try c.decodeIfPresent(String.self, forKey: .preset) ?? named {
            guard !c.contains(.layers) else {
                throw RuntimeError(.invalidConfiguration, "key 'model': give either preset or layers, not both")
            }
            try self.init(preset: preset)
            initialWeights = weights
            return
        }
        guard c.contains(.layers) else {
            throw RuntimeError(
                .invalidConfiguration,
                "key 'model' must name a preset (\(ModelArchitecture.allCases.map(\.rawValue).joined(separator: ", "))) or list layers"
            )
        }
        self.init(spec: try ModelSpec(from: decoder), initialWeights: weights)
    }

    /// The name logs show: the preset's or the declared name, else `declared model`.
    package var displayName: String { spec.name ?? "declared model" }

    /// The network for inputs of `input` and `classCount` classes, with an error that names the
    /// key and the layer when the spec does not fit the data.
    package func makeNetwork(input: FeatureShape, classCount: Int, seed: UInt64) throws -> Network {
        do {
            return try spec.makeNetwork(input: input, classCount: classCount, seed: seed)
        } catch let error as ModelSpecError {
            throw RuntimeError(.invalidConfiguration, "key 'model', \(error) (inputs \(input), \(classCount) classes)")
        }
    }

    /// The fingerprint two parties compare (``ModelSpec/fingerprint(input:classCount:)``).
    package func fingerprint(input: FeatureShape, classCount: Int) throws -> String {
        do {
            return try spec.fingerprint(input: input, classCount: classCount)
        } catch let error as ModelSpecError {
            throw RuntimeError(.invalidConfiguration, "key 'model', \(error) (inputs \(input), \(classCount) classes)")
        }
    }
}
