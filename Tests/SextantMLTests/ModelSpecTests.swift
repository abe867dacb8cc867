import Foundation
import SextantML
import Testing

@Suite("Model specs")
struct ModelSpecTests {
    let mnist = FeatureShape(channels: 1, height: 28, width: 28)

    @Test func presetFingerprintsAreUnchanged() throws {
        // The strings existing checkpoints hold (runs.model_fingerprint), written out in full.
        let expected: [ModelArchitecture: String] = [
            .logreg: "logreg:1x28x28:10:7850",
            .mlp: "mlp:1x28x28:10:199210",
            .cnn: "cnn:1x28x28:10:582026",
            .mlpLarge: "mlp-large:1x28x28:10:10197270",
        ]
        for (preset, fingerprint) in expected {
            #expect(preset.fingerprint(input: mnist, classCount: 10) == fingerprint)
            #expect(try preset.spec.fingerprint(input: mnist, classCount: 10) == fingerprint)
        }
        #expect(
            try ModelArchitecture.logreg.spec.fingerprint(input: FeatureShape(channels: 20), classCount: 4)
                == "logreg:20:4:84")
    }

    @Test func presetsBuildTheLayoutAndWeightsTheyAlwaysHad() throws {
        // The cnn as the preset used to list its layers, by hand.
        let conv1 = Conv2d(input: mnist, outChannels: 32, kernel: 5)
        let pool1 = MaxPool2d(shape: conv1.outputShape)
        let conv2 = Conv2d(input: pool1.outputShape, outChannels: 64, kernel: 5)
        let pool2 = MaxPool2d(shape: conv2.outputShape)
        let handmade = Network(
            layers: [
                conv1, ReLU(shape: conv1.outputShape), pool1, conv2, ReLU(shape: conv2.outputShape), pool2,
                Flatten(shape: pool2.outputShape), Linear(inputs: pool2.outputShape.count, outputs: 512),
                ReLU(shape: FeatureShape(channels: 512)), Linear(inputs: 512, outputs: 10),
            ], classCount: 10, seed: 7)
        let fromSpec = try ModelArchitecture.cnn.spec.makeNetwork(input: mnist, classCount: 10, seed: 7)
        #expect(fromSpec.parameterVector() == handmade.parameterVector())
        #expect(fromSpec.layers.map(\.summary) == handmade.layers.map(\.summary))
        let mlp = Network(
            layers: [
                Flatten(shape: mnist), Linear(inputs: 784, outputs: 200), ReLU(shape: FeatureShape(channels: 200)),
                Linear(inputs: 200, outputs: 200), ReLU(shape: FeatureShape(channels: 200)),
                Linear(inputs: 200, outputs: 10),
            ], classCount: 10, seed: 8)
        #expect(
            ModelArchitecture.mlp.makeNetwork(input: mnist, classCount: 10, seed: 8).parameterVector()
                == mlp.parameterVector())
    }

    @Test func specFingerprintsFollowTheModel() throws {
        let base = ModelSpec(layers: [.flatten, .linear(out: 64), .relu, .dropout(p: 0.2), .linear(out: nil)])
        let input = FeatureShape(channels: 1, height: 4, width: 4)
        let fingerprint = try base.fingerprint(input: input, classCount: 3)
        #expect(try base.fingerprint(input: input, classCount: 3) == fingerprint, "stable")
        #expect(fingerprint.hasPrefix("spec-"))
        // Parameters: 16 x 64 + 64 + 64 x 3 + 3.
        #expect(fingerprint.hasSuffix(":1x4x4:3:1283"))
        #expect(base.canonicalDescription == "classification|flatten,linear(64),relu,dropout,linear(*)")
        // A literal value (64-bit FNV-1a of the canonical text, computed independently): the hash
        // must not change between builds, runs or platforms (Swift's Hasher would).
        #expect(fingerprint == "spec-b56646d2402f9164:1x4x4:3:1283")
        var variants: [ModelSpec] = []
        var wider = base
        wider.layers[1] = .linear(out: 65)
        variants.append(wider)
        var tanh = base
        tanh.layers[2] = .tanh
        variants.append(tanh)
        var binary = base
        binary.task = TaskSpec(type: .binary)
        variants.append(binary)
        var conv = ModelSpec(layers: [.conv2d(out: 2, kernel: 3), .flatten, .linear(out: nil)])
        let convPrint = try conv.fingerprint(input: input, classCount: 3)
        conv.layers[0] = .conv2d(out: 2, kernel: 3, stride: 2, padding: 1)
        #expect(try conv.fingerprint(input: input, classCount: 3) != convPrint)
        for variant in variants {
            #expect(
                try variant.fingerprint(input: input, classCount: variant.task.type == .binary ? 2 : 3) != fingerprint)
        }
        // A new input shape or class count changes it too; dropout's p (a training setting) does not.
        #expect(try base.fingerprint(input: FeatureShape(channels: 16), classCount: 3) != fingerprint)
        #expect(try base.fingerprint(input: input, classCount: 4) != fingerprint)
        var lighter = base
        lighter.layers[3] = .dropout(p: 0.5)
        #expect(try lighter.fingerprint(input: input, classCount: 3) == fingerprint)
        // A spec named like a preset with other layers does not take the preset's fingerprint.
        var impostor = base
        impostor.name = "mlp"
        #expect(try impostor.fingerprint(input: input, classCount: 3) == fingerprint)
    }

    private func error(_ spec: ModelSpec, input: FeatureShape, classCount: Int = 10) -> String? {
        do {
            _ = try spec.makeLayers(input: input, classCount: classCount)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func badSpecsNameTheLayer() {
        let image = FeatureShape(channels: 1, height: 8, width: 8)
        #expect(
            error(
                ModelSpec(layers: [
                    .conv2d(out: 4, kernel: 3), .maxpool(kernel: 2), .conv2d(out: 8, kernel: 3),
                    .conv2d(out: 8, kernel: 5),
                ]),
                input: image)
                == "layer 3 (conv2d): kernel 5 is larger than its 1x1 input (a flat input: put image layers before flatten)"
        )
        #expect(
            error(
                ModelSpec(layers: [.maxpool(kernel: 2), .conv2d(out: 4, kernel: 5), .flatten, .linear(out: nil)]),
                input: image)
                == "layer 1 (conv2d): kernel 5 is larger than its 4x4 input")
        #expect(
            error(ModelSpec(layers: [.conv2d(out: 4, kernel: 3), .linear(out: nil)]), input: image)
                == "layer 1 (linear): needs a flat input, got 4x6x6; put a flatten before it")
        #expect(
            error(ModelSpec(layers: [.flatten, .linear(out: 64)]), input: image)
                == "layer 1 (linear): outputs 64 values, the task (classification, 10 classes) needs 10 (leave out `out` on the last linear layer to take the task's width)"
        )
        #expect(
            error(ModelSpec(layers: [.maxpool(kernel: 3, padding: 2), .flatten, .linear(out: nil)]), input: image)
                == "layer 0 (maxpool): padding 2 is more than half the kernel 3")
        #expect(
            error(ModelSpec(layers: [.flatten, .dropout(p: 1), .linear(out: nil)]), input: image)
                == "layer 1 (dropout): p 1.0 must lie in [0, 1)")
        #expect(
            error(ModelSpec(layers: [.conv2d(out: 0, kernel: 3), .flatten, .linear(out: nil)]), input: image)
                == "layer 0 (conv2d): out 0 must be positive")
        #expect(
            error(
                ModelSpec(layers: [.conv2d(out: 2, kernel: 3, stride: 0), .flatten, .linear(out: nil)]), input: image)
                == "layer 0 (conv2d): stride 0 must be positive")
        #expect(error(ModelSpec(layers: []), input: image) == "model: the model has no layers")
        #expect(
            error(
                ModelSpec(task: TaskSpec(type: .regression, loss: "l1"), layers: [.flatten, .linear(out: nil)]),
                input: image)
                == "model: task regression: unknown loss 'l1'; known losses: mse, huber")
        #expect(
            error(ModelSpec(layers: [.flatten, .linear(out: nil)]), input: image, classCount: 1)
                == "model: task classification: the data has 1 classes, classification needs 2 or more")
    }

    @Test func specsDecodeFromConfigurationText() throws {
        let json = """
            {"name": "small-cnn", "task": {"type": "binary", "positive_weight": 3},
             "layers": [{"type": "conv2d", "out": 4, "kernel": 3, "padding": 1}, {"type": "GELU"},
                        {"type": "avgpool", "kernel": 2}, {"type": "maxpool", "kernel": 3, "stride": 1, "padding": 1},
                        {"type": "flatten"}, {"type": "dropout", "p": 0.25}, {"type": "linear", "out": 8},
                        {"type": "layernorm"}, {"type": "sigmoid"}, {"type": "tanh"}, {"type": "relu"}, {"type": "linear"}]}
            """
        let spec = try JSONDecoder().decode(ModelSpec.self, from: Data(json.utf8))
        #expect(
            spec.layers == [
                .conv2d(out: 4, kernel: 3, stride: 1, padding: 1), .gelu, .avgpool(kernel: 2),
                .maxpool(kernel: 3, stride: 1, padding: 1), .flatten, .dropout(p: 0.25), .linear(out: 8), .layernorm,
                .sigmoid, .tanh, .relu, .linear(out: nil),
            ])
        #expect(try spec.resolvedTask(classCount: 2) == .binary(positiveWeight: 3))
        let network = try spec.makeNetwork(
            input: FeatureShape(channels: 2, height: 6, width: 6), classCount: 2, seed: 1)
        #expect(network.task.outputCount == 1)
        // Round trip through the encoder.
        let encoded = try JSONEncoder().encode(spec)
        #expect(try JSONDecoder().decode(ModelSpec.self, from: encoded) == spec)
        // A missing task means classification.
        let plain = try JSONDecoder().decode(ModelSpec.self, from: Data(#"{"layers": [{"type": "linear"}]}"#.utf8))
        #expect(plain.task.type == .classification)
        // Unknown types and arguments are refused with the names a user can act on.
        for (text, fragment) in [
            (#"{"layers": [{"type": "lstm"}]}"#, "unknown layer type 'lstm'"),
            (#"{"layers": [{"type": "linear", "outs": 3}]}"#, "linear has no argument 'outs'; it takes out"),
            (#"{"layers": [{"type": "conv2d", "kernel": 3}]}"#, "conv2d needs 'out'"),
        ] {
            do {
                _ = try JSONDecoder().decode(ModelSpec.self, from: Data(text.utf8))
                Issue.record("\(text) was accepted")
            } catch {
                #expect("\(error)".contains(fragment), "\(error)")
            }
        }
    }

    @Test func parameterTensorsFollowPyTorchNames() throws {
        let spec = ModelSpec(
            layers: [
                .conv2d(out: 4, kernel: 3, padding: 1), .relu, .maxpool(kernel: 2), .flatten, .linear(out: 16), .gelu,
                .linear(out: nil),
            ])
        let network = try spec.makeNetwork(
            input: FeatureShape(channels: 2, height: 6, width: 6), classCount: 5, seed: 1)
        let tensors = network.parameterTensors
        #expect(tensors.map(\.name) == ["0.weight", "0.bias", "4.weight", "4.bias", "6.weight", "6.bias"])
        #expect(tensors.map(\.shape) == [[4, 2, 3, 3], [4], [16, 36], [16], [5, 16], [5]])
        // The tensors tile the flat vector in order, each starting at its layer's range.
        var next = 0
        for tensor in tensors {
            #expect(tensor.offset == next)
            next += tensor.elementCount
        }
        #expect(next == network.parameterCount)
        #expect(tensors[2].offset == network.parameterRange(ofLayer: 4).lowerBound)
    }
}
