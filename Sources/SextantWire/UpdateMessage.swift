/// Client -> server: the result of one assignment.
public struct UpdateMessage: Sendable, Equatable {
    /// The client's sequence number: the server acks it, and drops a retried duplicate.
    public var updateID: UInt64
    /// The global version the client trained from (staleness = current - base).
    public var baseVersion: UInt64
    public var stepsDone: UInt32
    /// Wall-clock seconds spent training, for the scheduler's speed estimate.
    public var computeSeconds: Double
    public var sampleCount: UInt64
    public var trainLoss: Double
    /// L2 norm of the delta before clipping (equal to its norm when not clipped).
    public var normBeforeClip: Double
    public var clipped: Bool
    /// local parameters - base parameters.
    public var delta: FloatPayload

    public init(
        updateID: UInt64, baseVersion: UInt64, stepsDone: UInt32, computeSeconds: Double,
        sampleCount: UInt64, trainLoss: Double, normBeforeClip: Double, clipped: Bool,
        delta: FloatPayload
    ) {
        self.updateID = updateID
        self.baseVersion = baseVersion
        self.stepsDone = stepsDone
        self.computeSeconds = computeSeconds
        self.sampleCount = sampleCount
        self.trainLoss = trainLoss
        self.normBeforeClip = normBeforeClip
        self.clipped = clipped
        self.delta = delta
    }
}

extension UpdateMessage: WireMetadata {
    init(reading reader: inout ByteReader, payload: FloatPayload?) throws(WireError) {
        updateID = try reader.read(UInt64.self, field: "update.updateID")
        baseVersion = try reader.read(UInt64.self, field: "update.baseVersion")
        stepsDone = try reader.read(UInt32.self, field: "update.stepsDone")
        computeSeconds = try reader.readDouble(field: "update.computeSeconds")
        try requireNonNegative(computeSeconds, "update.computeSeconds")
        sampleCount = try reader.read(UInt64.self, field: "update.sampleCount")
        trainLoss = try reader.readDouble(field: "update.trainLoss")
        try requireFinite(trainLoss, "update.trainLoss")
        normBeforeClip = try reader.readDouble(field: "update.normBeforeClip")
        try requireNonNegative(normBeforeClip, "update.normBeforeClip")
        clipped = try reader.readBool(field: "update.clipped")
        delta = payload ?? FloatPayload([])
    }

    func write(to writer: inout ByteWriter) {
        writer.write(updateID)
        writer.write(baseVersion)
        writer.write(stepsDone)
        writer.write(computeSeconds)
        writer.write(sampleCount)
        writer.write(trainLoss)
        writer.write(normBeforeClip)
        writer.write(clipped)
    }

    var payload: FloatPayload? { delta }
}
