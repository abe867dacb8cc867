/// A feed-forward stack of layers whose parameters, and gradients, each live in one
/// contiguous Float32 buffer: a model, its gradient and a model delta are flat vectors.
///
/// A network keeps per-batch scratch memory, so one instance is used by one thread at a
/// time (it is deliberately not `Sendable`); copy its parameters out to share them.
package final class Network {
    package let layers: [any Layer]
    package let inputShape: FeatureShape
    /// What the network predicts: its output width, loss and metrics.
    package let task: LearningTask
    /// The labels' range (``LearningTask/classCount``): the classes, 2 for a binary task, 0 for regression.
    package var classCount: Int { task.classCount }
    package let parameterCount: Int
    /// Start of each layer's slice in the flat buffers.
    private let offsets: [Int]

    /// The model: every layer's weights, back to back.
    package let parameters: UnsafeMutableBufferPointer<Float>
    /// The gradient of the last ``trainingStep``'s mean loss, laid out like `parameters`.
    package let gradients: UnsafeMutableBufferPointer<Float>

    /// Activations: `activations[i]` is the input of layer i; the last one holds the logits.
    private var activations: [UnsafeMutablePointer<Float>] = []
    private var gradientScratch: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)?
    private var capacity = 0

    /// Builds a classifier of `classCount` classes and initialises its weights deterministically from `seed`.
    package convenience init(layers: [any Layer], classCount: Int, seed: UInt64) {
        self.init(layers: layers, task: .classification(classes: classCount), seed: seed)
    }

    /// Builds a network for `task` and initialises its weights (and dropout masks'
    /// generators) deterministically from `seed`.
    package init(layers: [any Layer], task: LearningTask, seed: UInt64) {
        precondition(!layers.isEmpty, "a network needs at least one layer")
        for (previous, next) in zip(layers, layers.dropFirst()) {
            precondition(
                previous.outputShape.count == next.inputShape.count,
                "layer shapes do not chain: \(previous.summary) then \(next.summary)")
        }
        precondition(
            layers.last!.outputShape.count == task.outputCount,
            "the last layer must output \(task.outputCount) values for \(task)")
        // Every pass multiplies matrices through OpenBLAS, whose buffer wants writing once.
        prepareBLAS()
        self.layers = layers
        self.inputShape = layers[0].inputShape
        self.task = task
        var offsets: [Int] = []
        var total = 0
        for layer in layers {
            offsets.append(total)
            total += layer.parameterCount
        }
        self.offsets = offsets
        parameterCount = total
        parameters = .allocate(capacity: total)
        parameters.initialize(repeating: 0)
        gradients = .allocate(capacity: total)
        gradients.initialize(repeating: 0)
        var generator = SeededGenerator(seed: seed)
        for (index, layer) in layers.enumerated() {
            var layerGenerator = generator.derived(UInt64(index))
            layer.initializeParameters(slice(parameters, index), using: &layerGenerator)
        }
        _ = generator.next()
    }

    deinit {
        parameters.deallocate()
        gradients.deallocate()
        releaseScratch()
    }

    // MARK: - Parameters

    /// A copy of the flat parameter vector.
    package func parameterVector() -> [Float] {
        Array(parameters)
    }

    /// Replaces the parameters with `vector`, which must have `parameterCount` elements.
    package func loadParameters(_ vector: some Collection<Float>) {
        precondition(
            vector.count == parameterCount, "parameter vector has \(vector.count) values, the model \(parameterCount)")
        _ = parameters.update(fromContentsOf: vector)
    }

    /// The parameter range of layer `index` within the flat vector.
    package func parameterRange(ofLayer index: Int) -> Range<Int> {
        offsets[index]..<(offsets[index] + layers[index].parameterCount)
    }

    /// Every parameter tensor under the name and shape PyTorch's `state_dict` gives it in the
    /// equivalent `nn.Sequential` (one module per layer, in order): `"0.weight"` `[out, in]`
    /// for a first Linear, `"3.bias"` `[out]`, ... Offsets are into the flat vector, each
    /// tensor row-major (see ``ParameterTensor``), in the order of the vector.
    package var parameterTensors: [ParameterTensor] {
        layers.indices.flatMap { index in
            layers[index].parameterTensors.map {
                ParameterTensor(name: "\(index).\($0.name)", shape: $0.shape, offset: offsets[index] + $0.offset)
            }
        }
    }

    private func slice(_ buffer: UnsafeMutableBufferPointer<Float>, _ layer: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(rebasing: buffer[parameterRange(ofLayer: layer)])
    }

    // MARK: - Passes

    /// Runs the forward pass in evaluation mode (dropout off) and returns the outputs
    /// (`batchSize x task.outputCount`: logits, or predictions for regression), valid until the next call.
    package func forward(_ input: UnsafePointer<Float>, batchSize: Int) -> UnsafePointer<Float> {
        run(input, batchSize: batchSize, training: false)
    }

    private func run(_ input: UnsafePointer<Float>, batchSize: Int, training: Bool) -> UnsafePointer<Float> {
        reserve(batchSize: batchSize)
        for layer in layers { layer.setTraining(training) }
        activations[0].update(from: input, count: batchSize * inputShape.count)
        for (index, layer) in layers.enumerated() {
            layer.forward(
                activations[index], into: activations[index + 1], batchSize: batchSize,
                parameters: parameters.baseAddress! + offsets[index])
        }
        return UnsafePointer(activations[layers.count])
    }

    /// One forward and backward pass over a batch: fills ``gradients`` with the gradient of
    /// the mean loss and returns the loss statistics.
    @discardableResult
    package func trainingStep(
        _ input: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batchSize: Int
    ) -> LossStatistics {
        trainingStep(input, targets: .labels(labels), batchSize: batchSize)
    }

    /// One forward (training mode) and backward pass with the task's loss: fills
    /// ``gradients`` with the gradient of the mean loss and returns the loss statistics.
    @discardableResult
    package func trainingStep(_ input: UnsafePointer<Float>, targets: BatchTargets, batchSize: Int) -> LossStatistics {
        let outputs = run(input, batchSize: batchSize, training: true)
        var (upstream, downstream) = gradientScratch!
        let result = task.evaluate(outputs: outputs, targets: targets, batchSize: batchSize, gradient: upstream)
        for index in layers.indices.reversed() {
            let layer = layers[index]
            layer.backward(
                input: activations[index], outputGradient: upstream,
                inputGradient: index == 0 ? nil : downstream, batchSize: batchSize,
                parameters: parameters.baseAddress! + offsets[index],
                parameterGradients: gradients.baseAddress! + offsets[index])
            swap(&upstream, &downstream)
        }
        return result
    }

    /// Calls `body` with the gradient of each example's own loss, one example at a time,
    /// for record-level DP-SGD (which clips every example's gradient before summing).
    /// The buffer passed to `body` is ``gradients``, overwritten for every example.
    package func forEachExampleGradient(
        _ input: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batchSize: Int,
        _ body: (_ example: Int, _ gradient: UnsafeMutableBufferPointer<Float>) -> Void
    ) {
        forEachExampleGradient(input, targets: .labels(labels), batchSize: batchSize, body)
    }

    /// ``forEachExampleGradient(_:labels:batchSize:_:)`` for any task's targets.
    package func forEachExampleGradient(
        _ input: UnsafePointer<Float>, targets: BatchTargets, batchSize: Int,
        _ body: (_ example: Int, _ gradient: UnsafeMutableBufferPointer<Float>) -> Void
    ) {
        for example in 0..<batchSize {
            trainingStep(
                input + example * inputShape.count, targets: targets.advanced(by: example, width: task.outputCount),
                batchSize: 1)
            body(example, gradients)
        }
    }

    /// Floating-point operations of one training step, for throughput reports.
    package func trainingFlops(batchSize: Int) -> Double {
        layers.enumerated().reduce(0) { total, entry in
            total + entry.element.trainingFlops(batchSize: batchSize, computesInputGradient: entry.offset > 0)
        } + Double(batchSize * task.outputCount * 4)
    }

    // MARK: - Scratch memory

    private func reserve(batchSize: Int) {
        guard batchSize > capacity else { return }
        releaseScratch()
        let shapes = [inputShape] + layers.map(\.outputShape)
        activations = shapes.map { shape in
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: batchSize * shape.count)
            buffer.initialize(repeating: 0, count: batchSize * shape.count)
            return buffer
        }
        let widest = shapes.map(\.count).max()! * batchSize
        let a = UnsafeMutablePointer<Float>.allocate(capacity: widest)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: widest)
        a.initialize(repeating: 0, count: widest)
        b.initialize(repeating: 0, count: widest)
        gradientScratch = (a, b)
        capacity = batchSize
    }

    private func releaseScratch() {
        activations.forEach { $0.deallocate() }
        activations = []
        if let (a, b) = gradientScratch {
            a.deallocate()
            b.deallocate()
        }
        gradientScratch = nil
        capacity = 0
    }
}
