import Foundation
import SwiftProtobuf

/// Collects the nodes and constants of one ONNX graph, naming every intermediate value.
/// Not Sendable: one exporter builds one graph.
struct ONNXGraphBuilder {
    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []
    private var counter = 0

    /// An attribute of a node.
    enum Attribute {
        case int(Int64)
        case ints([Int64])
        case float(Float)
    }

    /// Adds a node and returns the name of its (first) output; `output` names it, otherwise a
    /// fresh name is made from the operator.
    @discardableResult
    mutating func add(
        _ operation: String, _ inputs: [String], _ attributes: KeyValuePairs<String, Attribute> = [:],
        output: String? = nil
    ) -> String {
        counter += 1
        let name = output ?? "\(operation.lowercased())_\(counter)"
        var node = Onnx_NodeProto()
        node.opType = operation
        node.name = "\(operation)_\(counter)"
        node.input = inputs
        node.output = [name]
        node.attribute = attributes.map { key, value in
            var attribute = Onnx_AttributeProto()
            attribute.name = key
            switch value {
            case .int(let i):
                attribute.type = .int
                attribute.i = i
            case .ints(let ints):
                attribute.type = .ints
                attribute.ints = ints
            case .float(let f):
                attribute.type = .float
                attribute.f = f
            }
            return attribute
        }
        nodes.append(node)
        return name
    }

    /// A Float32 constant; `name` names it (parameters keep their state_dict names).
    mutating func constant(_ values: [Float], shape: [Int], name: String? = nil) -> String {
        precondition(shape.reduce(1, *) == values.count, "constant of shape \(shape) with \(values.count) values")
        counter += 1
        var tensor = Onnx_TensorProto()
        tensor.name = name ?? "const_\(counter)"
        tensor.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensor.dims = shape.map(Int64.init)
        var raw = Data(capacity: values.count * 4)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { raw.append(contentsOf: $0) } }
        tensor.rawData = raw
        initializers.append(tensor)
        return tensor.name
    }

    /// An Int64 constant (shapes, slice bounds).
    mutating func constant(_ values: [Int64], shape: [Int]) -> String {
        counter += 1
        var tensor = Onnx_TensorProto()
        tensor.name = "const_\(counter)"
        tensor.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        tensor.dims = shape.map(Int64.init)
        tensor.int64Data = values
        initializers.append(tensor)
        return tensor.name
    }

    /// A Float32 tensor's type with a symbolic batch dimension `N` first.
    static func valueInfo(_ name: String, elementType: Onnx_TensorProto.DataType, shape: [Int]) -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = name
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(elementType.rawValue)
        var batch = Onnx_TensorShapeProto.Dimension()
        batch.dimParam = "N"
        tensor.shape.dim =
            [batch]
            + shape.map { size in
                var dimension = Onnx_TensorShapeProto.Dimension()
                dimension.dimValue = Int64(size)
                return dimension
            }
        info.type.tensorType = tensor
        return info
    }
}
