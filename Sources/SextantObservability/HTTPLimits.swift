/// What one client may ask of the HTTP side (`/metrics`, `/status`, `/`), so that no
/// client can hold its event loop, its memory or the process (issue 13: a single 1 MiB
/// header line used to stop training, `/status` and SIGTERM). See docs/design.md and
/// docs/observability.md.
///
/// A request past a limit is refused (431, 413 or 408 and the connection closed, or
/// closed at once when another response is still in flight); a connection past the
/// connection limit is closed as soon as it is accepted.
public struct HTTPLimits: Sendable, Equatable {
    /// Request line and headers together, in bytes: 16 KiB. Beyond it: 431.
    public var maxHeadBytes: Int
    /// Header fields in one request: 100. Beyond it: 431.
    public var maxHeaderCount: Int
    /// Request body, in bytes: 1 KiB (every endpoint is a GET). Beyond it: 413.
    public var maxBodyBytes: Int
    /// Connections open at once: 64. Those beyond are closed when accepted.
    public var maxConnections: Int
    /// Time for a request head to arrive complete, counted from the connection's accept or
    /// from the end of the previous response: 10 s. Then: 408 and closed.
    public var headTimeout: Duration
    /// A connection on which nothing of a request was read for this long, with no response
    /// pending, is closed: 30 s.
    public var idleTimeout: Duration

    public init(
        maxHeadBytes: Int = 16 * 1024, maxHeaderCount: Int = 100, maxBodyBytes: Int = 1024,
        maxConnections: Int = 64, headTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(30)
    ) {
        self.maxHeadBytes = maxHeadBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
        self.maxConnections = maxConnections
        self.headTimeout = headTimeout
        self.idleTimeout = idleTimeout
    }

    /// The limits `sextant-server` runs with.
    public static let standard = HTTPLimits()
}
