/// Every message of the Sextant protocol.
public enum WireMessage: Sendable, Equatable {
    /// Client -> server: first message after connecting.
    case join(JoinMessage)
    /// Server -> client: the global model and what to do with it.
    case assignment(AssignmentMessage)
    /// Client -> server: a trained delta.
    case update(UpdateMessage)
    /// Client -> server: still alive, and whether it is training (liveness only).
    case heartbeat(HeartbeatMessage)
    /// Client -> server: a finished update waits for an upload slot.
    case uploadRequest(UploadRequestMessage)
    /// Server -> client: the upload slot is granted, send the update now.
    case uploadGrant(UploadGrantMessage)
    /// Server -> client: joined, and no work for now.
    case wait(WaitMessage)
    /// Server -> client: an update was received and stored.
    case ack(AckMessage)
    /// Either way: a request was refused.
    case error(ErrorReplyMessage)
    /// Either way: leaving.
    case bye(ByeMessage)
    /// Server -> client: evaluate this global model on the validation split.
    case evaluate(EvaluateMessage)
    /// Client -> server: the validation split's summary for one version.
    case evaluation(EvaluationMessage)
    /// Client -> server, before joining: the site's statistics for the preprocessing agreement.
    case statistics(StatisticsMessage)
    /// Server -> client: the agreed preprocessing.
    case agreement(AgreementMessage)
    /// Either way: a step of secure aggregation in a cohort (docs/design.md 13).
    case cohort(CohortMessage)

    public var type: WireMessageType {
        switch self {
        case .join: .join
        case .assignment: .assignment
        case .update: .update
        case .heartbeat: .heartbeat
        case .uploadRequest: .uploadRequest
        case .uploadGrant: .uploadGrant
        case .wait: .wait
        case .ack: .ack
        case .error: .error
        case .bye: .bye
        case .evaluate: .evaluate
        case .evaluation: .evaluation
        case .statistics: .statistics
        case .agreement: .agreement
        case .cohort: .cohort
        }
    }
}

/// The metadata frame of one message type.
protocol WireMetadata {
    init(reading reader: inout ByteReader, payload: FloatPayload?) throws(WireError)
    func write(to writer: inout ByteWriter)
    var payload: FloatPayload? { get }
}

extension WireMetadata {
    var payload: FloatPayload? { nil }
}

/// Rejects NaN and infinities in metadata numbers, naming the field.
func requireFinite<Value: BinaryFloatingPoint>(_ value: Value, _ field: String) throws(WireError) {
    guard value.isFinite else { throw WireError(.nonFinite, "\(field) is \(value), must be finite") }
}

func requireNonNegative<Value: BinaryFloatingPoint>(_ value: Value, _ field: String) throws(WireError) {
    try requireFinite(value, field)
    guard value >= 0 else { throw WireError(.malformed, "\(field) is \(value), must be >= 0") }
}

/// The message type byte of the header. Values are part of the protocol: never reuse one.
public enum WireMessageType: UInt8, Sendable, CaseIterable {
    case join = 1
    case assignment = 2
    case update = 3
    case heartbeat = 4
    case ack = 5
    case error = 6
    case bye = 7
    case uploadRequest = 8
    case uploadGrant = 9
    case wait = 10
    case evaluate = 11
    case evaluation = 12
    case statistics = 13
    case agreement = 14
    case cohort = 15

    /// Whether messages of this type carry a third frame: Float32 values, or for `cohort`
    /// the protocol's bytes (the header's payload count is then a byte count).
    public var hasPayload: Bool { self == .assignment || self == .update || self == .evaluate || self == .cohort }
}
