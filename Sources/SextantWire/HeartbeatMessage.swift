/// Application-level liveness: ZMTP heartbeats only prove the link is up, this says the
/// client is alive and what it is doing.
public struct HeartbeatMessage: Sendable, Equatable {
    public enum State: UInt8, Sendable, CaseIterable {
        case idle = 0
        case training = 1
        /// From a client: it has a finished update and asks for an upload slot. From the
        /// server: the slot is granted, send the update now. Bounding the uploads in flight
        /// bounds the server's memory, since libzmq buffers a whole message per sending peer.
        case updateReady = 2
    }

    /// The global version the sender holds.
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
