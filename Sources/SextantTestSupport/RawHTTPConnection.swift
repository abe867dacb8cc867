import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A plain TCP connection to an HTTP port on 127.0.0.1, for sending what no HTTP client
/// would: oversized, endless or trickled request heads.
///
/// Blocking calls bounded by timeouts: use it from ``onThread(_:)``, never on the test's
/// cooperative pool (which the server under test may need to answer).
public final class RawHTTPConnection {
    /// How a request ended, as the client saw it.
    public enum Outcome: Equatable, Sendable, CustomStringConvertible {
        /// The server answered; the status code of its first response.
        case status(Int)
        /// The server closed (or reset) the connection without an answer.
        case closed
        /// Nothing within the time allowed: the server neither answered nor closed.
        case timedOut

        public var description: String {
            switch self {
            case .status(let code): "HTTP \(code)"
            case .closed: "closed"
            case .timedOut: "no answer"
            }
        }
    }

    private var descriptor: Int32

    /// Connects to `127.0.0.1:port`; nil when the connection is refused.
    public init?(port: Int) {
        #if canImport(Glibc)
            descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close()
            return nil
        }
    }

    deinit { close() }

    public func close() {
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
        descriptor = -1
    }

    /// Sends all of `bytes` within `timeout`; false when the server closed or reset the
    /// connection, or stopped reading, first.
    public func send(_ bytes: [UInt8], timeout: Duration = .seconds(5)) -> Bool {
        setTimeout(SO_SNDTIMEO, timeout)
        let deadline = ContinuousClock.now + timeout
        var offset = 0
        while offset < bytes.count {
            guard ContinuousClock.now < deadline else { return false }
            let sent = bytes.withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                offset += sent
            } else if sent < 0, errno == EINTR || errno == EAGAIN {
                continue
            } else {
                return false
            }
        }
        return true
    }

    public func send(_ text: String, timeout: Duration = .seconds(5)) -> Bool {
        send(Array(text.utf8), timeout: timeout)
    }

    /// Reads until the first response's status line arrives, the server closes the
    /// connection, or `timeout` passes.
    public func outcome(timeout: Duration) -> Outcome {
        let deadline = ContinuousClock.now + timeout
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return .timedOut }
            setTimeout(SO_RCVTIMEO, min(left, .milliseconds(200)))
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += buffer[..<count]
                if let code = Self.statusCode(received) { return .status(code) }
            } else if count == 0 {
                return Self.statusCode(received).map(Outcome.status) ?? .closed
            } else if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                continue
            } else {
                return .closed
            }
        }
    }

    /// Whether the server has answered or closed the connection, waiting at most `timeout`.
    public func answeredOrClosed(within timeout: Duration) -> Bool {
        outcome(timeout: timeout) != .timedOut
    }

    /// A GET of `path` with `Connection: close`: its status code and body, or the outcome
    /// that stood in for an answer.
    public static func get(port: Int, path: String, timeout: Duration) -> (outcome: Outcome, body: String) {
        guard let connection = RawHTTPConnection(port: port) else { return (.closed, "") }
        defer { connection.close() }
        guard connection.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n") else {
            return (.closed, "")
        }
        let deadline = ContinuousClock.now + timeout
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while ContinuousClock.now < deadline {
            connection.setTimeout(SO_RCVTIMEO, .milliseconds(200))
            let count = buffer.withUnsafeMutableBytes { recv(connection.descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += buffer[..<count]
            } else if count == 0 {
                break
            } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                break
            }
        }
        guard let code = statusCode(received) else {
            return (ContinuousClock.now < deadline ? .closed : .timedOut, "")
        }
        let text = String(decoding: received, as: UTF8.self)
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (.status(code), body)
    }

    /// Runs `body` on a new thread and resumes with its result.
    public static func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }

    /// The code in `HTTP/1.1 200 OK\r\n`, once the whole status line has arrived.
    private static func statusCode(_ bytes: [UInt8]) -> Int? {
        let text = String(decoding: bytes.prefix(256), as: UTF8.self)
        guard let end = text.range(of: "\r\n") else { return nil }
        let parts = text[..<end.lowerBound].split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/") else { return nil }
        return Int(parts[1])
    }

    private func setTimeout(_ option: Int32, _ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int(max(attoseconds / 1_000_000_000_000, 1000)))
        _ = setsockopt(descriptor, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size))
    }
}
