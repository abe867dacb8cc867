import Foundation
import SextantML
import SextantONNX
import Testing

/// The exports of a trained model: safetensors, npz and ONNX, and the row encoder that
/// `sextant predict` applies (docs/design.md 11).
@Suite("Model export")
struct ExportTests {
    /// A small image model with every layer type that has parameters or changes shapes.
    static let imageSpec = ModelSpec(
        name: "every-layer", task: TaskSpec(type: .classification),
        layers: [
            .conv2d(out: 3, kernel: 3, stride: 1, padding: 1), .gelu, .maxpool(kernel: 2),
            .avgpool(kernel: 2, stride: 1, padding: 1), .layernorm, .tanh, .flatten, .dropout(p: 0.1),
            .linear(out: 8), .sigmoid, .relu, .linear(out: nil),
        ])
    static let imagePipeline = FeaturePipeline(
        columns: [], target: .init(name: "label", classes: ["a", "b", "c"]),
        arrayShape: FeatureShape(channels: 1, height: 6, width: 6),
        arrayScaling: [.init(scaling: .standardize, shift: 0.5, scale: 2)])

    /// A table: a numeric column with imputation, a categorical one, a numeric one without.
    static let tablePipeline = FeaturePipeline(
        columns: [
            .init(
                name: "age",
                kind: .numeric(.init(transform: .init(scaling: .standardize, shift: 50, scale: 0.1), imputation: 48))),
            .init(name: "site", kind: .categorical(.init(vocabulary: ["north", "south", "west"]))),
            .init(name: "dose", kind: .numeric(.init(transform: .init(scaling: .minmax, shift: 1, scale: 0.5)))),
        ],
        ignored: ["mrn"], target: .init(name: "outcome", classes: ["no", "yes"]))

    static func model(_ spec: ModelSpec, _ pipeline: FeaturePipeline, seed: UInt64 = 3) throws -> ExportedModel {
        let classes = spec.task.type == .binary ? 2 : pipeline.target.classes.count
        let network = try spec.makeNetwork(input: pipeline.inputShape, classCount: classes, seed: seed)
        return try ExportedModel(
            spec: spec, pipeline: pipeline, run: "run-1", version: 4, fingerprint: "fp",
            parameters: network.parameterVector())
    }

    // MARK: - safetensors

    @Test func safeTensorsRoundTripKeepsTensorsModelAndPipeline() throws {
        let model = try Self.model(Self.imageSpec, Self.imagePipeline)
        let file = try model.safeTensors()
        #expect(
            file.tensors.map(\.name) == [
                "0.weight", "0.bias", "4.weight", "4.bias", "8.weight", "8.bias", "11.weight", "11.bias",
            ])
        #expect(file["0.weight"]?.shape == [3, 1, 3, 3])
        #expect(file["4.weight"]?.shape == [3, 4, 4])
        #expect(file["8.weight"]?.shape == [8, 48])
        let decoded = try SafeTensors.decode(try file.encoded())
        #expect(decoded == file)
        #expect(try ExportedModel(safeTensors: decoded) == model)
    }

    @Test func safeTensorsBytesFollowTheFormat() throws {
        let file = SafeTensors(
            tensors: [
                .init(name: "0.weight", shape: [2, 1], values: [1, -2]),
                .init(name: "0.bias", shape: [2], values: [0.5, 0]),
            ],
            metadata: ["run": "r"])
        let bytes = [UInt8](try file.encoded())
        let headerLength = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        #expect(headerLength % 8 == 0, "the data starts aligned")
        #expect(bytes.count == 8 + headerLength + 16)
        let header = try #require(
            try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])) as? [String: Any])
        let weight = try #require(header["0.weight"] as? [String: Any])
        #expect(weight["dtype"] as? String == "F32")
        #expect(weight["shape"] as? [Int] == [2, 1])
        #expect(weight["data_offsets"] as? [Int] == [0, 8])
        #expect((header["0.bias"] as? [String: Any])?["data_offsets"] as? [Int] == [8, 16])
        #expect(header["__metadata__"] as? [String: String] == ["run": "r"])
        // -2 as little-endian Float32: 0xC0000000.
        #expect(Array(bytes[(8 + headerLength + 4)..<(8 + headerLength + 8)]) == [0, 0, 0, 0xC0])
    }

    @Test func damagedSafeTensorsAreRefused() throws {
        let good = [UInt8](
            try SafeTensors(tensors: [.init(name: "w", shape: [3], values: [1, 2, 3])]).encoded())
        var longHeader = good
        longHeader[0] = 0xFF
        let cases: [(String, [UInt8])] = [
            ("truncated", Array(good.dropLast(4))), ("too short", [1, 0, 0]), ("header length", longHeader),
            ("extra data", good + [0, 0, 0, 0]),
        ]
        for (name, bytes) in cases {
            #expect(throws: SextantMLError.self, "\(name)") { _ = try SafeTensors.decode(Data(bytes)) }
        }
        let header = #"{"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#
        var f64 = [UInt8](repeating: 0, count: 8)
        f64[0] = UInt8(header.utf8.count)
        let error = #expect(throws: SextantMLError.self) {
            _ = try SafeTensors.decode(Data(f64 + Array(header.utf8) + [UInt8](repeating: 0, count: 8)))
        }
        #expect(error?.message.contains("dtype F64") == true)
    }

    @Test func weightsOfAnotherArchitectureAreRefusedNamingTheTensor() throws {
        let mnist = FeatureShape(channels: 1, height: 28, width: 28)
        let mlp = try ModelArchitecture.mlp.spec.makeNetwork(input: mnist, classCount: 10, seed: 1)
        let logreg = try ModelArchitecture.logreg.spec.makeNetwork(input: mnist, classCount: 10, seed: 1)
        let error = #expect(throws: SextantMLError.self) { _ = try mlp.parameterVector(from: logreg.safeTensors()) }
        #expect(
            error?.message
                == "the weights were made for another architecture: tensor 1.weight has shape [10, 784] in the file, [200, 784] in this model"
        )
        #expect(try mlp.parameterVector(from: mlp.safeTensors()) == mlp.parameterVector())
    }

    // MARK: - npz

    @Test func npzIsAStoredZipOfNpyFiles() throws {
        let model = try Self.model(ModelArchitecture.logreg.spec, Self.imagePipeline)
        let bytes = [UInt8](try model.numPyArchive().encoded())
        #expect(Array(bytes[0..<4]) == [0x50, 0x4B, 0x03, 0x04])
        let npy = [UInt8](NumPyArchive.npy(.float32(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])))
        #expect(Array(npy[0..<8]) == [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(npy[8]) | Int(npy[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        let header = String(decoding: npy[10..<(10 + headerLength)], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"))
        #expect(header.hasSuffix("\n"))
        #expect(npy.count == 10 + headerLength + 24)
    }

    // MARK: - ONNX

    @Test func onnxGraphHoldsPreprocessingLayersAndHead() throws {
        let spec = ModelSpec(
            task: TaskSpec(type: .binary),
            layers: [.linear(out: 4), .layernorm, .gelu, .dropout(p: 0.2), .linear(out: nil)])
        let model = try Self.model(spec, Self.tablePipeline)
        let proto = try ONNXExporter.model(for: model)
        #expect(proto.opsetImport.map(\.version) == [17])
        #expect(proto.graph.input.map(\.name) == ["features"])
        let inputShape = proto.graph.input[0].type.tensorType.shape.dim
        #expect(inputShape.map(\.dimParam) == ["N", ""])
        #expect(inputShape.last?.dimValue == 3, "one raw value per pipeline column")
        #expect(proto.graph.output.map(\.name) == ["probabilities", "label"])
        let operations = proto.graph.node.map(\.opType)
        for expected in [
            "IsNaN", "Where", "Equal", "Cast", "Concat", "Gemm", "LayerNormalization", "Erf", "Sigmoid", "ArgMax",
        ] {
            #expect(operations.contains(expected), "\(expected) in \(operations)")
        }
        #expect(!operations.contains("Dropout"))
        #expect(operations.filter { $0 == "Where" }.count == 1, "only the column with an imputation")
        let initializers = Set(proto.graph.initializer.map(\.name))
        #expect(initializers.isSuperset(of: ["0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias"]))
        let metadata = Dictionary(uniqueKeysWithValues: proto.metadataProps.map { ($0.key, $0.value) })
        #expect(metadata["task"] == "binary")
        #expect(metadata["classes"] == #"["no","yes"]"#)
        let reread = try Onnx_ModelProto(serializedBytes: try proto.serializedData())
        #expect(reread == proto)
    }

    /// Every arithmetic node sees Float32 on both sides: onnxruntime refuses a graph whose
    /// `Sub` mixes int64 and float (the binary head's `1 - p` once did).
    @Test func onnxArithmeticNeverMixesTypes() throws {
        let spec = ModelSpec(task: TaskSpec(type: .binary), layers: [.linear(out: 4), .relu, .linear(out: nil)])
        let proto = try ONNXExporter.model(for: try Self.model(spec, Self.tablePipeline))
        let types = Dictionary(uniqueKeysWithValues: proto.graph.initializer.map { ($0.name, $0.dataType) })
        let float = Int32(Onnx_TensorProto.DataType.float.rawValue)
        for node in proto.graph.node where ["Sub", "Mul", "Add", "Div"].contains(node.opType) {
            for input in node.input {
                if let type = types[input] { #expect(type == float, "\(node.opType) \(node.name) reads \(input)") }
            }
        }
    }

    @Test func onnxImageGraphReshapesAndPools() throws {
        let proto = try ONNXExporter.model(for: try Self.model(Self.imageSpec, Self.imagePipeline))
        let nodes = proto.graph.node
        let operations = nodes.map(\.opType)
        #expect(operations.prefix(4) == ["Reshape", "Sub", "Mul", "Reshape"], "the per-channel scaling first")
        #expect(operations.contains("Conv") && operations.contains("MaxPool") && operations.contains("Softmax"))
        let average = try #require(nodes.first { $0.opType == "AveragePool" })
        #expect(average.attribute.first { $0.name == "count_include_pad" }?.i == 1)
        #expect(average.attribute.first { $0.name == "pads" }?.ints == [1, 1, 1, 1])
        #expect(proto.graph.output.map(\.name) == ["probabilities", "label"])
    }

    @Test func onnxRegressionOutputsPredictions() throws {
        var pipeline = Self.tablePipeline
        pipeline.target.classes = []
        let spec = ModelSpec(task: TaskSpec(type: .regression, outputs: 2), layers: [.linear(out: nil)])
        let proto = try ONNXExporter.model(for: try Self.model(spec, pipeline))
        #expect(proto.graph.output.map(\.name) == ["prediction"])
        #expect(proto.graph.output[0].type.tensorType.shape.dim.last?.dimValue == 2)
        #expect(proto.graph.node.suffix(2).map(\.opType) == ["Div", "Add"], "back to the target's units last")
    }

    @Test func predictorMapsRegressionOutputsBackToTheTargetsUnits() throws {
        var pipeline = Self.tablePipeline
        pipeline.target = .init(
            name: "score", classes: [], transform: .init(scaling: .standardize, shift: 100, scale: 0.1))
        let spec = ModelSpec(task: TaskSpec(type: .regression), layers: [.linear(out: nil)])
        var model = try Self.model(spec, pipeline)
        model.parameters = [Float](repeating: 0, count: model.parameters.count)
        let predictor = try Predictor(model: model)
        #expect(
            predictor.outputs(features: [Float](repeating: 1, count: 2 * pipeline.inputWidth), rows: 2) == [100, 100])
    }

    // MARK: - Rows

    @Test func rowsBecomeInputsWithImputationAndOneHot() throws {
        let header = ["mrn", "site", "age", "outcome", "dose"]
        let encoder = try FeaturePipeline.RowEncoder(pipeline: Self.tablePipeline, header: header, file: "t.csv")
        var features: [Float] = []
        try encoder.encode(["MRN-77", "south", "60", "yes", "3"], row: 1, into: &features)
        try encoder.encode(["MRN-78", "west", "", "no", "1"], row: 2, into: &features)
        #expect(features == [1, 0, 1, 0, 1, -0.2, 0, 0, 1, 0])
        let missing = #expect(throws: SextantMLError.self) {
            try encoder.encode(["MRN-79", "north", "50", "no", "NA"], row: 3, into: &features)
        }
        #expect(missing?.message == "t.csv row 3 column 5: 'dose' is missing and the federation agreed no imputation")
        let unknown = #expect(throws: SextantMLError.self) {
            try encoder.encode(["MRN-80", "east", "50", "no", "2"], row: 4, into: &features)
        }
        #expect(unknown?.message.contains("category 'east' outside the agreed") == true)
        #expect(throws: SextantMLError.self) {
            _ = try FeaturePipeline.RowEncoder(pipeline: Self.tablePipeline, header: ["age", "dose"], file: "t.csv")
        }
    }

    @Test func predictorProbabilitiesSumToOne() throws {
        let predictor = try Predictor(model: try Self.model(Self.imageSpec, Self.imagePipeline))
        let rows = 3
        let features = (0..<(rows * 36)).map { Float($0 % 7) / 7 }
        let outputs = predictor.outputs(features: features, rows: rows)
        #expect(predictor.columnNames == ["prediction", "a", "b", "c"])
        for row in 0..<rows {
            #expect(abs(outputs[(row * 3)..<(row * 3 + 3)].reduce(0, +) - 1) < 1e-5)
        }
    }
}
