import SextantML
import Testing

@testable import SextantRuntime

/// The YAML `model` key: a preset by name, or layers declared in the configuration.
@Suite struct ModelSectionTests {
    @Test("a preset's name, in either form, is the preset's spec and keeps its fingerprint")
    func presets() throws {
        let mnist = FeatureShape(channels: 1, height: 28, width: 28)
        for yaml in ["model: cnn", "model: {preset: cnn}", "model: CNN"] {
            let section = try decodeConfiguration(yaml).model
            #expect(section.spec == ModelArchitecture.cnn.spec, "\(yaml)")
            #expect(try section.fingerprint(input: mnist, classCount: 10) == "cnn:1x28x28:10:582026")
        }
        #expect(try decodeConfiguration("{}").model.spec == ModelArchitecture.mlp.spec)
    }

    @Test("declared layers build the network for the data's shape, with the declared task")
    func declaredLayers() throws {
        let yaml = """
            model:
              name: tabular
              task: {type: binary, positive_weight: 2}
              layers:
                - {type: linear, out: 8}
                - {type: tanh}
                - {type: dropout, p: 0.1}
                - {type: linear}
            """
        let section = try decodeConfiguration(yaml).model
        #expect(section.displayName == "tabular")
        let network = try section.makeNetwork(input: FeatureShape(channels: 30), classCount: 2, seed: 1)
        // 30*8 + 8, then 8*1 + 1 for the binary head.
        #expect(network.parameterCount == 257)
        #expect(try section.fingerprint(input: FeatureShape(channels: 30), classCount: 2).hasPrefix("spec-"))
    }

    @Test("bad model keys are refused in one line that names the problem")
    func refusals() throws {
        for (yaml, needle) in [
            ("model: resnet", "unknown model 'resnet'"),
            ("model: {preset: mlp, layers: [{type: relu}]}", "either preset or layers"),
            ("model: {name: x}", "unknown model 'x'"),
            ("model: {task: {type: binary}}", "must name a preset"),
            ("model: {layers: [{type: linear}], optimizer: adam}", "unknown keys"),
        ] {
            let message = refusal(of: yaml) ?? "accepted"
            #expect(message.contains(needle), "\(yaml): \(message)")
            #expect(!message.contains("\n"))
        }
        // A spec that does not fit the data names the key and the layer.
        let section = try decodeConfiguration(
            "model: {layers: [{type: conv2d, out: 4, kernel: 9}, {type: flatten}, {type: linear}]}"
        ).model
        #expect(throws: RuntimeError.self) {
            _ = try section.makeNetwork(input: FeatureShape(channels: 1, height: 4, width: 4), classCount: 3, seed: 1)
        }
        do {
            _ = try section.makeNetwork(input: FeatureShape(channels: 1, height: 4, width: 4), classCount: 3, seed: 1)
        } catch let error as RuntimeError {
            #expect(error.message.contains("key 'model', layer 0 (conv2d)"), "\(error.message)")
        }
    }
}
