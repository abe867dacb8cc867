import Foundation
import SextantML
import SwiftProtobuf

/// Writes an ``ExportedModel`` as an ONNX model (opset 17) that onnxruntime runs on raw
/// features: the federation's preprocessing, the layers and the task's head are all in the
/// graph (docs/design.md 11).
///
/// Input `features`, Float32 `[N, D]`:
/// - tables: one value per pipeline column, in the pipeline's order; a numeric column's raw
///   value (NaN for a missing one, replaced by the agreed imputation); a categorical column's
///   index in its vocabulary (the `pipeline` metadata lists it), NaN or -1 for a missing or
///   unknown category, which one-hot encodes as all zeros;
/// - arrays: the record's raw values flattened in C, H, W order.
///
/// Outputs: `probabilities` `[N, classes]` (softmax, or the sigmoid's two classes for a binary
/// task) and `label` `[N]` Int64 (the class index, first of the largest on ties); for
/// regression, `prediction` `[N, outputs]`. `metadata_props` holds ``ExportedModel/metadata()``.
package enum ONNXExporter {
    package static let opsetVersion: Int64 = 17
    /// ONNX IR version 8, the one of opset 17.
    package static let irVersion: Int64 = 8

    package static func write(_ model: ExportedModel, to url: URL) throws {
        let data = try self.model(for: model).serializedData()
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw SextantMLError(code: .fileNotFound, "\(url.path): cannot write: \(error.localizedDescription)")
        }
    }

    /// The ONNX model of `model`.
    package static func model(for model: ExportedModel) throws -> Onnx_ModelProto {
        let network = try model.makeNetwork()
        var graph = ONNXGraphBuilder()
        let pipeline = model.pipeline
        let rawWidth = pipeline.arrayShape == nil ? pipeline.columns.count : pipeline.inputWidth
        var x = preprocess("features", pipeline: pipeline, graph: &graph)
        var image = false
        func flat() {
            if image { x = graph.add("Flatten", [x], ["axis": .int(1)]) }
            image = false
        }
        func asImage(_ shape: FeatureShape) {
            if !image {
                let target = graph.constant(
                    [-1, Int64(shape.channels), Int64(shape.height), Int64(shape.width)], shape: [4])
                x = graph.add("Reshape", [x, target])
            }
            image = true
        }
        let tensors = Dictionary(grouping: network.parameterTensors) { $0.name.split(separator: ".")[0] }
        func parameter(_ index: Int, _ name: String) -> String {
            let tensor = tensors["\(index)"]!.first { $0.name == "\(index).\(name)" }!
            let values = Array(network.parameters[tensor.offset..<(tensor.offset + tensor.shape.reduce(1, *))])
            return graph.constant(values, shape: tensor.shape, name: tensor.name)
        }
        for (index, (spec, layer)) in zip(model.spec.layers, network.layers).enumerated() {
            switch spec {
            case .linear:
                flat()
                x = graph.add("Gemm", [x, parameter(index, "weight"), parameter(index, "bias")], ["transB": .int(1)])
            case .conv2d(_, let kernel, let stride, let padding):
                asImage(layer.inputShape)
                x = graph.add(
                    "Conv", [x, parameter(index, "weight"), parameter(index, "bias")],
                    window(kernel: kernel, stride: stride, padding: padding))
            case .maxpool(let kernel, let stride, let padding):
                asImage(layer.inputShape)
                x = graph.add("MaxPool", [x], window(kernel: kernel, stride: stride ?? kernel, padding: padding))
            case .avgpool(let kernel, let stride, let padding):
                asImage(layer.inputShape)
                x = graph.add(
                    "AveragePool", [x],
                    window(kernel: kernel, stride: stride ?? kernel, padding: padding, countsPadding: true))
            case .flatten: flat()
            case .relu: x = graph.add("Relu", [x])
            case .tanh: x = graph.add("Tanh", [x])
            case .sigmoid: x = graph.add("Sigmoid", [x])
            case .gelu:
                // 0.5 x (1 + erf(x / sqrt 2)), the exact GELU (Gelu itself needs opset 20).
                let scaled = graph.add("Div", [x, graph.constant([Float(2).squareRoot()], shape: [])])
                let shifted = graph.add("Add", [graph.add("Erf", [scaled]), graph.constant([1], shape: [])])
                x = graph.add("Mul", [graph.add("Mul", [x, shifted]), graph.constant([0.5], shape: [])])
            case .layernorm:
                let shape = layer.inputShape
                if shape.height == 1 && shape.width == 1 { flat() } else { asImage(shape) }
                x = graph.add(
                    "LayerNormalization", [x, parameter(index, "weight"), parameter(index, "bias")],
                    ["axis": .int(1), "epsilon": .float(LayerNorm.epsilon)])
            case .dropout: break  // the identity at inference
            }
        }
        flat()
        var outputs: [Onnx_ValueInfoProto] = []
        switch try model.task {
        case .classification(let classes):
            graph.add("Softmax", [x], ["axis": .int(1)], output: "probabilities")
            outputs.append(ONNXGraphBuilder.valueInfo("probabilities", elementType: .float, shape: [classes]))
        case .binary:
            let positive = graph.add("Sigmoid", [x])
            let negative = graph.add("Sub", [graph.constant([Float(1)], shape: []), positive])
            graph.add("Concat", [negative, positive], ["axis": .int(1)], output: "probabilities")
            outputs.append(ONNXGraphBuilder.valueInfo("probabilities", elementType: .float, shape: [2]))
        case .regression(let width, _):
            // The network learnt standardised targets: back to the target's own units.
            let target = pipeline.target.transform ?? .identity
            let unscaled = graph.add("Div", [x, graph.constant([target.scale], shape: [])])
            graph.add("Add", [unscaled, graph.constant([target.shift], shape: [])], output: "prediction")
            outputs.append(ONNXGraphBuilder.valueInfo("prediction", elementType: .float, shape: [width]))
        }
        if model.spec.task.type != .regression {
            graph.add("ArgMax", ["probabilities"], ["axis": .int(1), "keepdims": .int(0)], output: "label")
            outputs.append(ONNXGraphBuilder.valueInfo("label", elementType: .int64, shape: []))
        }

        var body = Onnx_GraphProto()
        body.name = model.spec.name ?? "sextant"
        body.node = graph.nodes
        body.initializer = graph.initializers
        body.input = [ONNXGraphBuilder.valueInfo("features", elementType: .float, shape: [rawWidth])]
        body.output = outputs
        var proto = Onnx_ModelProto()
        proto.irVersion = irVersion
        proto.producerName = "sextant"
        proto.graph = body
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = opsetVersion
        proto.opsetImport = [opset]
        proto.metadataProps = try model.metadata().sorted { $0.key < $1.key }.map { key, value in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            return entry
        }
        return proto
    }

    /// A square window's attributes; `countsPadding`: the average divides by the whole
    /// window, padded zeros included (PyTorch's default, and Sextant's AvgPool2d).
    private static func window(kernel: Int, stride: Int, padding: Int, countsPadding: Bool = false)
        -> KeyValuePairs<String, ONNXGraphBuilder.Attribute>
    {
        let (k, s, p) = (Int64(kernel), Int64(stride), Int64(padding))
        return countsPadding
            ? [
                "kernel_shape": .ints([k, k]), "strides": .ints([s, s]), "pads": .ints([p, p, p, p]),
                "count_include_pad": .int(1),
            ]
            : ["kernel_shape": .ints([k, k]), "strides": .ints([s, s]), "pads": .ints([p, p, p, p])]
    }

    /// The pipeline's preprocessing of the raw `input` as nodes; returns the `[N, width]` model input.
    private static func preprocess(_ input: String, pipeline: FeaturePipeline, graph: inout ONNXGraphBuilder)
        -> String
    {
        if pipeline.arrayShape != nil {
            let scaling = pipeline.arrayScaling
            guard !scaling.isEmpty else { return input }
            let shape = pipeline.inputShape
            let planes = graph.add(
                "Reshape",
                [input, graph.constant([-1, Int64(shape.channels), Int64(shape.height * shape.width)], shape: [3])])
            let shift = graph.constant(scaling.map(\.shift), shape: [scaling.count, 1])
            let scale = graph.constant(scaling.map(\.scale), shape: [scaling.count, 1])
            let scaled = graph.add("Mul", [graph.add("Sub", [planes, shift]), scale])
            return graph.add("Reshape", [scaled, graph.constant([-1, Int64(shape.count)], shape: [2])])
        }
        let axis = graph.constant([1], shape: [1])
        let parts = pipeline.columns.enumerated().map { position, column -> String in
            let start = graph.constant([Int64(position)], shape: [1])
            let end = graph.constant([Int64(position + 1)], shape: [1])
            var value = graph.add("Slice", [input, start, end, axis])
            switch column.kind {
            case .numeric(let numeric):
                if let imputation = numeric.imputation {
                    let missing = graph.add("IsNaN", [value])
                    value = graph.add("Where", [missing, graph.constant([imputation], shape: []), value])
                }
                let shift = graph.constant([numeric.transform.shift], shape: [])
                let scale = graph.constant([numeric.transform.scale], shape: [])
                return graph.add("Mul", [graph.add("Sub", [value, shift]), scale])
            case .categorical(let categorical):
                let positions = graph.constant(
                    categorical.vocabulary.indices.map(Float.init), shape: [categorical.vocabulary.count])
                let hot = graph.add("Equal", [value, positions])
                return graph.add("Cast", [hot], ["to": .int(Int64(Onnx_TensorProto.DataType.float.rawValue))])
            }
        }
        return parts.count == 1 ? parts[0] : graph.add("Concat", parts, ["axis": .int(1)])
    }
}
