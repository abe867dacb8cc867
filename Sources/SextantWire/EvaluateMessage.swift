/// Server -> client: evaluate this global model on your validation split and report the
/// result (federated evaluation, docs/design.md section 4). The model travels as the
/// payload, unless the client was just sent it with its assignment of the same version:
/// then the payload is empty and the client evaluates the model it holds (protocol 4).
public struct EvaluateMessage: Sendable, Equatable {
    public var runID: String
    public var modelVersion: UInt64
    /// The global model's flat parameter vector; empty: the model of the client's
    /// assignment of `modelVersion`.
    public var model: FloatPayload

    /// Whether the model is the one the client's assignment of this version carried.
    public var refersToAssignment: Bool { model.count == 0 }

    public init(runID: String, modelVersion: UInt64, model: FloatPayload) {
        self.runID = runID
        self.modelVersion = modelVersion
        self.model = model
    }
}

extension EvaluateMessage: WireMetadata {
    init(reading reader: inout ByteReader, payload: FloatPayload?) throws(WireError) {
        runID = try reader.readString(field: "evaluate.runID")
        modelVersion = try reader.read(UInt64.self, field: "evaluate.modelVersion")
        model = payload ?? FloatPayload([])
    }

    func write(to writer: inout ByteWriter) {
        writer.write(runID)
        writer.write(modelVersion)
    }

    var payload: FloatPayload? { model }
}

/// Client -> server: a site's evaluation of one global version on its validation split, as
/// a mergeable summary (counts, not records), so that the server can combine the sites'.
public struct EvaluationMessage: Sendable, Equatable {
    public var modelVersion: UInt64
    /// Validation records evaluated (0: the site holds no validation split).
    public var records: UInt64
    /// The summed loss over those records.
    public var lossSum: Double
    /// The task's metric summary, JSON (the server checks it against its task).
    public var summary: [UInt8]

    /// Largest summary accepted: a binary task's score histograms take about 50 KB.
    public static let maxSummaryBytes = 1 << 20

    public init(modelVersion: UInt64, records: UInt64, lossSum: Double, summary: [UInt8]) {
        self.modelVersion = modelVersion
        self.records = records
        self.lossSum = lossSum
        self.summary = summary
    }
}

extension EvaluationMessage: WireMetadata {
    init(reading reader: inout ByteReader, payload: FloatPayload?) throws(WireError) {
        modelVersion = try reader.read(UInt64.self, field: "evaluation.modelVersion")
        records = try reader.read(UInt64.self, field: "evaluation.records")
        lossSum = try reader.readDouble(field: "evaluation.lossSum")
        try requireNonNegative(lossSum, "evaluation.lossSum")
        summary = try reader.readBytes(field: "evaluation.summary", maxCount: Self.maxSummaryBytes)
    }

    func write(to writer: inout ByteWriter) {
        writer.write(modelVersion)
        writer.write(records)
        writer.write(lossSum)
        writer.write(bytes: summary)
    }
}
