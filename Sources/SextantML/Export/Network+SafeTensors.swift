extension Network {
    /// The parameters as safetensors tensors, named and shaped as the equivalent PyTorch
    /// `nn.Sequential`'s `state_dict` (``parameterTensors``).
    package func safeTensors(metadata: [String: String] = [:]) -> SafeTensors {
        SafeTensors(
            tensors: parameterTensors.map { tensor in
                SafeTensors.Tensor(
                    name: tensor.name, shape: tensor.shape,
                    values: Array(parameters[tensor.offset..<(tensor.offset + tensor.shape.reduce(1, *))]))
            },
            metadata: metadata)
    }

    /// The flat parameter vector that `file` holds for this network, after checking that its
    /// tensors are exactly this network's, by name and shape; otherwise one line naming the
    /// first difference (weights made for another architecture).
    package func parameterVector(from file: SafeTensors) throws -> [Float] {
        func refuse(_ problem: String) -> SextantMLError {
            SextantMLError(code: .invalidArgument, "the weights were made for another architecture: \(problem)")
        }
        let expected = parameterTensors
        let given = Dictionary(file.tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var vector = [Float](repeating: 0, count: parameterCount)
        for tensor in expected {
            guard let found = given[tensor.name] else {
                let names = file.tensors.map(\.name).joined(separator: ", ")
                throw refuse(
                    "this model has tensor \(tensor.name) \(tensor.shape), the file has none (it has \(names))")
            }
            guard found.shape == tensor.shape else {
                throw refuse(
                    "tensor \(tensor.name) has shape \(found.shape) in the file, \(tensor.shape) in this model")
            }
            vector.replaceSubrange(tensor.offset..<(tensor.offset + found.values.count), with: found.values)
        }
        if let extra = file.tensors.first(where: { name in !expected.contains { $0.name == name.name } }) {
            throw refuse("the file has tensor \(extra.name) \(extra.shape), which this model does not have")
        }
        return vector
    }
}
