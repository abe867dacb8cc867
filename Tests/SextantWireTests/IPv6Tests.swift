import Logging
import SextantWire
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("IPv6 endpoints", .timeLimit(.minutes(1)))
struct IPv6Tests {
    /// Whether a TCP socket can bind ::1 here (some containers have no IPv6).
    static var hasIPv6Loopback: Bool {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0
            }
        }
    }

    @Test("a ROUTER bound on [::1] and a DEALER connected to it exchange a message", .enabled(if: hasIPv6Loopback))
    func loopbackExchange() async throws {
        let logger = Logger(label: "sextant.wire.tests")
        let context = try ZMQContext()
        let server = try await SocketThread(
            context: context,
            configuration: .init(type: .router, bindEndpoints: ["tcp://[::1]:*"], lingerMilliseconds: 0),
            logger: logger)
        let endpoint = try #require(server.boundEndpoints.first)
        #expect(endpoint.hasPrefix("tcp://[::1]:"), "\(endpoint)")
        let client = try await SocketThread(
            context: context,
            configuration: .init(
                type: .dealer, options: [.routingID(Array("six".utf8))], connectEndpoints: [endpoint],
                lingerMilliseconds: 0),
            logger: logger)
        try await client.send(WireCodec.encode(.heartbeat(HeartbeatMessage(modelVersion: 1, state: .idle))))
        var inbox = server.messages.makeAsyncIterator()
        let received = try #require(await inbox.next())
        #expect(received.first?.bytes == Array("six".utf8))
        await client.shutdown()
        await server.shutdown()
    }

    @Test("an IPv4 bind leaves the socket IPv4-only, as before")
    func ipv4Unchanged() async throws {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context: context, type: .router)
        defer { socket.close() }
        try socket.bind(to: "tcp://127.0.0.1:*")
        #expect(socket.lastEndpoint?.hasPrefix("tcp://127.0.0.1:") == true)
    }
}
