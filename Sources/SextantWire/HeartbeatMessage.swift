/// Client -> server, application-level liveness only: ZMTP heartbeats prove the link is up,
/// this says the client is alive and whether it is training. Asking for an upload slot is
/// an `uploadRequest`, and the server's answers are `uploadGrant` and `wait`
/// (docs/design.md section 4).
public struct HeartbeatMessage: Sendable, Equatable {
    /// Values are part of the protocol: never reuse one. 2 was version 1's "update ready",
    /// now the `uploadRequest` and `uploadGrant` messages.
    public enum State: UInt8, Sendable, CaseIterable {
        case idle = 0
        case training = 1
    }

    /// The global version the client holds.
    public var modelVersion: UInt64
    public var state: State

    public init(modelVersion: UInt64, state: State) {
        self.modelVersion = modelVersion
        self.state = state
    }
}

extension HeartbeatMessage: WireMetadata {
    init(reading reader: inout ByteReader, payload: FloatPayload?) throws(WireError) {
        modelVersion = try reader.read(UInt64.self, field: "heartbeat.modelVersion")
        let raw = try reader.read(UInt8.self, field: "heartbeat.state")
        guard let state = State(rawValue: raw) else {
            throw WireError(.malformed, "heartbeat.state \(raw) is not a known state")
        }
        self.state = state
    }

    func write(to writer: inout ByteWriter) {
        writer.write(modelVersion)
        writer.write(state.rawValue)
    }
}
