import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension IntegrationTests {
    /// Start-up with the real executables: a bind that fails leaves nothing on disk, IPv6
    /// addresses work, and a frozen server is described as unreachable.
    @Suite("Start-up")
    struct StartupTests {
        /// What stands in the way of the bind, and the address the error must name.
        enum BindFailure: String, CaseIterable, Sendable {
            case portTaken = "port taken"
            case hostName = "host name"
            case unknownInterface = "unknown interface"
        }

        @Test(
            "a bind that fails stops the server in one line naming the address, before any file is made",
            arguments: BindFailure.allCases)
        func failedBindLeavesNothing(_ failure: BindFailure) async throws {
            try IntegrationEnvironment.requireDataset()
            let fixture = try FederationFixture(name: "bind")
            defer { fixture.tearDown() }
            var configuration = fixture.configuration(name: "bind")
            var arguments: [String] = []
            var holder: Int32?
            defer { holder.map { _ = close($0) } }
            switch failure {
            case .portTaken: holder = try Self.listen(onPort: fixture.port)
            case .hostName: configuration.bind = "tcp://localhost:\(fixture.port)"
            case .unknownInterface:
                configuration.bind = "tcp://nosuchif0:\(fixture.port)"
                arguments = ["--insecure"]
            }
            let config = try fixture.write(configuration.yaml)
            let server = try fixture.start(
                "server", executable: "sextant-server", arguments: ["--config", config.path] + arguments)
            try #require(try await server.waitForExit(timeout: .seconds(60)), "\(server.tail())")
            #expect(!server.exitedSuccessfully && server.statusDescription.hasPrefix("exit status"), "\(server.tail())")
            let lines = server.standardError.split(separator: "\n").filter { !$0.allSatisfy(\.isWhitespace) }
                .filter { !$0.contains("INSECURE") }
            #expect(lines.count == 1, "\(server.standardError)")
            #expect(lines.first?.contains(configuration.bind) == true, "\(server.standardError)")
            let files = try FileManager.default.contentsOfDirectory(atPath: fixture.databaseDirectory.path)
            #expect(!files.contains { $0.hasPrefix("checkpoints.sqlite") }, "\(files)")
        }

        @Test("a federation over IPv6 loopback: server, clients and the metrics endpoint on [::1]")
        func ipv6Loopback() async throws {
            try IntegrationEnvironment.requireDataset()
            guard Self.hasIPv6Loopback() else {
                print("skipped: this kernel has no IPv6 loopback (::1)")
                return
            }
            let fixture = try FederationFixture(name: "ipv6")
            defer { fixture.tearDown() }
            var configuration = fixture.configuration(name: "ipv6")
            configuration.maxVersions = 3
            configuration.clientCount = 2
            configuration.minClients = 2
            let endpoint = "tcp://[::1]:\(fixture.port)"
            configuration.bind = endpoint
            configuration.metricsBind = "[::1]:\(try FederationFixture.freeLoopbackPort())"
            let config = try fixture.write(configuration.yaml)
            let server = try fixture.startServer(config: config)
            let clients = try (0..<2).map {
                try fixture.start(
                    "client-\($0)", executable: "sextant-client",
                    arguments: ["--config", config.path, "--index", "\($0)", "--server", endpoint])
            }
            let serving = try await fixture.waitForLogLine(
                server, containing: "bind=\(endpoint)", timeout: .seconds(60))
            #expect(serving != nil, "\(server.tail())")
            try await fixture.expectEveryProcessFinished(server: server, clients: clients)
            _ = try await fixture.expectCompletedRun(
                versions: configuration.maxVersions, clientLogs: clients.map { ($0.name, $0.standardError) })
        }

        @Test("a client of a frozen server says it gets no reply, and blames no key")
        func frozenServerIsUnreachable() async throws {
            try IntegrationEnvironment.requireDataset()
            let fixture = try FederationFixture(name: "frozen")
            defer { fixture.tearDown() }
            let config = try fixture.write(fixture.configuration(name: "frozen").yaml)
            let server = try fixture.startServer(config: config)
            _ = try await fixture.waitForLogLine(server, containing: "serving", timeout: .seconds(60))
            server.send(SIGSTOP)
            defer { server.send(SIGCONT) }
            let client = try fixture.startClient(config: config, index: 0)
            // libzmq gives up the handshake with the silent server after 30 s (a failure with
            // no detail, which used to be blamed on the CURVE key). The client warns at most
            // every 10 s: four warnings take 40 s, past that failure.
            let warned = try await fixture.wait(timeout: .seconds(90), every: .milliseconds(500)) {
                LogLines.all(in: client.standardError, containing: "no reply from \(fixture.endpoint)").count >= 4
            }
            #expect(warned, "\(client.tail())")
            let silent = LogLines.first(
                in: client.standardError, containing: "no reply from \(fixture.endpoint) within")
            #expect(silent?.contains("the server is down, frozen, or unreachable") == true, "\(client.tail())")
            #expect(!client.standardError.contains("CURVE"), "\(client.tail())")
            #expect(!client.standardError.contains("server_public_key"), "\(client.tail())")
        }

        /// A TCP socket listening on 127.0.0.1:`port`, holding it; close it when done.
        static func listen(onPort port: Int) throws -> Int32 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            guard fd >= 0, bound, Glibc.listen(fd, 16) == 0 else {
                throw POSIXError(.EADDRINUSE)
            }
            return fd
        }

        /// Whether a TCP socket can bind ::1 here (some containers have no IPv6).
        static func hasIPv6Loopback() -> Bool {
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
    }
}
