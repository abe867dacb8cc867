/// Either way: the sender is leaving, and why.
public struct ByeMessage: Sendable, Equatable {
    public enum Reason: UInt8, Sendable, CaseIterable {
        /// The run finished.
        case done = 0
        /// The sender is shutting down (SIGTERM, operator).
        case shutdown = 1
        /// The server refuses this client.
        case rejected = 2
        /// The client's privacy budget allows no more training: it leaves the run.
        case privacyBudgetSpent = 3
    }

    public var reason: Reason
    public var text: String

    public init(reason: Reason, text: String = "") {
        self.reason = reason
        self.text = text
    }
}

extension ByeMessage: WireMetadata {
    init(reading reader: inout ByteReader, payload: FloatPayload?) throws(WireError) {
        let raw = try reader.read(UInt8.self, field: "bye.reason")
        guard let reason = Reason(rawValue: raw) else {
            throw WireError(.malformed, "bye.reason \(raw) is not a known reason")
        }
        self.reason = reason
        text = try reader.readString(field: "bye.text")
    }

    func write(to writer: inout ByteWriter) {
        writer.write(reason.rawValue)
        writer.write(text)
    }
}
