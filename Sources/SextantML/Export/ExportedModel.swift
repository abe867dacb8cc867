import Foundation

/// A trained model as it leaves Sextant: the declared model, the preprocessing agreed by the
/// federation, the parameters, and where they came from. The safetensors, `.npz` and ONNX
/// exports are views of this one value, and `sextant predict` rebuilds the network from it.
/// Sendable.
package struct ExportedModel: Sendable, Equatable {
    package var spec: ModelSpec
    package var pipeline: FeaturePipeline
    package var run: String
    package var version: Int
    package var fingerprint: String
    /// The flat parameter vector of the network `spec` builds for `pipeline`'s inputs.
    package var parameters: [Float]

    /// Checks that `parameters` fit the network that `spec` and `pipeline` describe.
    package init(
        spec: ModelSpec, pipeline: FeaturePipeline, run: String, version: Int, fingerprint: String,
        parameters: [Float]
    ) throws {
        self.spec = spec
        self.pipeline = pipeline
        self.run = run
        self.version = version
        self.fingerprint = fingerprint
        self.parameters = parameters
        let expected = try makeLayers().reduce(0) { $0 + $1.parameterCount }
        guard expected == parameters.count else {
            throw SextantMLError(
                code: .invalidArgument,
                "run \(run) version \(version) holds \(parameters.count) parameters, the model \(fingerprint) has \(expected)"
            )
        }
    }

    /// The labels' range the spec is built for: the pipeline's classes, 2 for binary, 0 for regression.
    package var classCount: Int { Self.classCount(spec: spec, pipeline: pipeline) }

    static func classCount(spec: ModelSpec, pipeline: FeaturePipeline) -> Int {
        switch spec.task.type {
        case .classification: pipeline.target.classes.count
        case .binary: 2
        case .regression: 0
        }
    }

    package var task: LearningTask {
        get throws { try spec.resolvedTask(classCount: classCount) }
    }

    private func makeLayers() throws -> [any Layer] {
        try spec.makeLayers(input: pipeline.inputShape, classCount: classCount)
    }

    /// The network with these parameters loaded.
    package func makeNetwork() throws -> Network {
        let network = try spec.makeNetwork(input: pipeline.inputShape, classCount: classCount, seed: 0)
        network.loadParameters(parameters)
        return network
    }

    /// The names of the outputs, one per probability column: the class names for
    /// classification and binary tasks, empty for regression.
    package var classNames: [String] {
        switch spec.task.type {
        case .classification, .binary:
            pipeline.target.classes.isEmpty ? (0..<classCount).map(String.init) : pipeline.target.classes
        case .regression: []
        }
    }

    // MARK: - Metadata

    /// The string map stored beside the tensors (safetensors `__metadata__`, the `.npz`'s
    /// `__metadata__` array, ONNX `metadata_props`): `model` and `pipeline` as JSON, `task`,
    /// `classes` (a JSON array), `input_shape`, `run`, `version`, `fingerprint`, `format`.
    package func metadata() throws -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func json(_ value: some Encodable) throws -> String {
            String(decoding: try encoder.encode(value), as: UTF8.self)
        }
        return [
            "format": Self.format, "model": try json(spec), "pipeline": try json(pipeline),
            "task": spec.task.type.rawValue, "classes": try json(classNames),
            "input_shape": try json([
                pipeline.inputShape.channels, pipeline.inputShape.height, pipeline.inputShape.width,
            ]),
            "run": run, "version": String(version), "fingerprint": fingerprint,
        ]
    }

    /// The value of the `format` metadata key.
    package static let format = "sextant-model-1"

    // MARK: - safetensors

    package func safeTensors() throws -> SafeTensors {
        try makeNetwork().safeTensors(metadata: try metadata())
    }

    /// Rebuilds a model from a safetensors file that Sextant wrote (its metadata names the
    /// model and the pipeline), checking the tensors against the model's names and shapes.
    package init(safeTensors file: SafeTensors) throws {
        func missing(_ key: String) -> SextantMLError {
            SextantMLError(
                code: .invalidArgument,
                "the file's metadata has no '\(key)': only models exported by `sextant checkpoints export` carry their model and preprocessing"
            )
        }
        let decoder = JSONDecoder()
        func decode<T: Decodable>(_ type: T.Type, _ key: String) throws -> T {
            guard let text = file.metadata[key] else { throw missing(key) }
            do {
                return try decoder.decode(type, from: Data(text.utf8))
            } catch {
                throw SextantMLError(code: .corruptData, "the file's metadata '\(key)' cannot be read: \(error)")
            }
        }
        let spec = try decode(ModelSpec.self, "model")
        let pipeline = try decode(FeaturePipeline.self, "pipeline")
        guard let versionText = file.metadata["version"], let version = Int(versionText) else {
            throw missing("version")
        }
        let network = try spec.makeNetwork(
            input: pipeline.inputShape, classCount: Self.classCount(spec: spec, pipeline: pipeline), seed: 0)
        try self.init(
            spec: spec, pipeline: pipeline, run: file.metadata["run"] ?? "", version: version,
            fingerprint: file.metadata["fingerprint"] ?? "", parameters: try network.parameterVector(from: file))
    }

    // MARK: - npz

    /// The parameters under the safetensors names, and the metadata as one JSON string
    /// `__metadata__` (`json.loads(str(np.load(path)["__metadata__"]))`).
    package func numPyArchive() throws -> NumPyArchive {
        let metadata = try JSONSerialization.data(withJSONObject: try metadata(), options: [.sortedKeys])
        return NumPyArchive(
            arrays: try safeTensors().tensors.map { ($0.name, .float32(shape: $0.shape, values: $0.values)) }
                + [("__metadata__", .string(String(decoding: metadata, as: UTF8.self)))])
    }
}
