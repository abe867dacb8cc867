/// Client -> server, before joining a federation of sites' own data: the site's summary
/// statistics (counts, sums, sums of squares, category counts; never records) from which
/// the federation agrees on preprocessing (docs/design.md 3). Repeated until answered.
public struct StatisticsMessage: Sendable, Equatable {
    public var clientName: String
    /// The statistics, JSON; the server checks them as a claim.
    public var statistics: [UInt8]

    /// Largest statistics accepted (wide tables with large vocabularies).
    public static let maxStatisticsBytes = 8 << 20

    public init(clientName: String, statistics: [UInt8]) {
        self.clientName = clientName
        self.statistics = statistics
    }
}

extension StatisticsMessage: WireMetadata {
    init(reading reader: inout ByteReader, payload: FloatPayload?) throws(WireError) {
        clientName = try reader.readString(field: "statistics.clientName")
        guard !clientName.isEmpty else { throw WireError(.malformed, "statistics.clientName is empty") }
        statistics = try reader.readBytes(field: "statistics.statistics", maxCount: Self.maxStatisticsBytes)
    }

    func write(to writer: inout ByteWriter) {
        writer.write(clientName)
        writer.write(bytes: statistics)
    }
}

/// Server -> client: the preprocessing the federation agreed on, which the site applies to
/// its records before it builds its model and joins.
public struct AgreementMessage: Sendable, Equatable {
    /// The agreed preprocessing, JSON.
    public var preprocessing: [UInt8]

    public init(preprocessing: [UInt8]) {
        self.preprocessing = preprocessing
    }
}

extension AgreementMessage: WireMetadata {
    init(reading reader: inout ByteReader, payload: FloatPayload?) throws(WireError) {
        preprocessing = try reader.readBytes(
            field: "agreement.preprocessing", maxCount: StatisticsMessage.maxStatisticsBytes)
    }

    func write(to writer: inout ByteWriter) {
        writer.write(bytes: preprocessing)
    }
}
