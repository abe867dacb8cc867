/// Server -> client: train from this global model and send back the delta.
public struct AssignmentMessage: Sendable, Equatable {
    public var runID: String
    public var modelVersion: UInt64
    /// Local optimizer steps to run (the Compass scheduler's Q).
    public var localSteps: UInt32
    public var learningRate: Float
    public var batchSize: UInt32
    /// L2 bound for the client's delta; 0 means no clipping.
    public var clipNorm: Float
    /// Client-side Gaussian noise multiplier; 0 means none.
    public var noiseMultiplier: Float
    /// The global model's flat parameter vector.
    public var model: FloatPayload

    public init(
        runID: String, modelVersion: UInt64, localSteps: UInt32, learningRate: Float,
        batchSize: UInt32, clipNorm: Float = 0, noiseMultiplier: Float = 0, model: FloatPayload
    ) {
        self.runID = runID
        self.modelVersion = modelVersion
        self.localSteps = localSteps
        self.learningRate = learningRate
        self.batchSize = batchSize
        self.clipNorm = clipNorm
        self.noiseMultiplier = noiseMultiplier
        self.model = model
    }
}

extension AssignmentMessage: WireMetadata {
    init(reading reader: inout ByteReader, payload: FloatPayload?) throws(WireError) {
        runID = try reader.readString(field: "assignment.runID")
        modelVersion = try reader.read(UInt64.self, field: "assignment.modelVersion")
        localSteps = try reader.read(UInt32.self, field: "assignment.localSteps")
        learningRate = try reader.readFloat(field: "assignment.learningRate")
        try requireNonNegative(learningRate, "assignment.learningRate")
        batchSize = try reader.read(UInt32.self, field: "assignment.batchSize")
        clipNorm = try reader.readFloat(field: "assignment.clipNorm")
        try requireNonNegative(clipNorm, "assignment.clipNorm")
        noiseMultiplier = try reader.readFloat(field: "assignment.noiseMultiplier")
        try requireNonNegative(noiseMultiplier, "assignment.noiseMultiplier")
        model = payload ?? FloatPayload([])
    }

    func write(to writer: inout ByteWriter) {
        writer.write(runID)
        writer.write(modelVersion)
        writer.write(localSteps)
        writer.write(learningRate)
        writer.write(batchSize)
        writer.write(clipNorm)
        writer.write(noiseMultiplier)
    }

    var payload: FloatPayload? { model }
}
