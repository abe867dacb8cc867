#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where the server's HTTP endpoints (`/metrics`, `/status`, `/`) listen: the value of
/// `server.metrics_bind`, "HOST:PORT", parsed and checked. Sendable.
///
/// The host is a numeric address (the HTTP server binds it directly, so a name that needs
/// DNS could silently bind something else), `localhost`, or `*` for every IPv4 interface;
/// IPv6 literals go in brackets: `[::1]:9464`.
package struct MetricsAddress: Sendable, Equatable, CustomStringConvertible {
    package enum Family: Sendable, Equatable {
        case ipv4, ipv6
    }

    /// A numeric address: `127.0.0.1`, `0.0.0.0`, `::1`.
    package var host: String
    package var port: UInt16
    package var family: Family

    /// `port` 0 lets the kernel choose (tests); a configuration needs a real port.
    package init(host: String, port: UInt16, family: Family) {
        self.host = host
        self.port = port
        self.family = family
    }

    /// Parses "HOST:PORT"; nil when it is not one (the caller names the key in its error).
    package init?(parsing text: String) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return nil
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        // Digits only: UInt16("+80") would accept a sign.
        guard !portPart.isEmpty, portPart.allSatisfy({ ("0"..."9").contains($0) }), let port = UInt16(portPart),
            port > 0
        else { return nil }
        if text.hasPrefix("[") {
            guard Self.isNumeric(String(hostPart), family: AF_INET6) else { return nil }
            self.init(host: String(hostPart), port: port, family: .ipv6)
            return
        }
        switch hostPart {
        case "localhost": self.init(host: "127.0.0.1", port: port, family: .ipv4)
        case "*": self.init(host: "0.0.0.0", port: port, family: .ipv4)
        default:
            let host = String(hostPart)
            guard Self.isNumeric(host, family: AF_INET) else { return nil }
            self.init(host: host, port: port, family: .ipv4)
        }
    }

    /// Whether only this machine can connect (the endpoints have no authentication).
    package var isLoopback: Bool {
        family == .ipv4 ? host.hasPrefix("127.") : host == "::1"
    }

    package var description: String { family == .ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    private static func isNumeric(_ host: String, family: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(family, host, &buffer) == 1
    }
}
