import SextantBenchmarks
import Testing

@testable import SextantClient
@testable import SextantLauncher
@testable import SextantRuntime
@testable import SextantServer
@testable import SextantSimulation

@Suite("Per-client rate limits")
struct RateLimiterTests {
    @Test("a burst passes, then the rate: 2 per second after a burst of 4")
    func tokenBucket() {
        var limiter = RateLimiter(perSecond: 2, burst: 4)
        let burst = (0..<10).filter { _ in limiter.allow("a", now: 0) }.count
        #expect(burst == 4)
        let early = limiter.allow("a", now: 0.4)
        #expect(!early, "0.8 tokens refilled: not yet one")
        let onTime = limiter.allow("a", now: 0.5)
        #expect(onTime)
        // Over 10 s at 10 attempts per second, about 20 pass.
        var passed = 0
        for tick in 1...100 where limiter.allow("a", now: 0.5 + Double(tick) / 10) { passed += 1 }
        #expect((19...21).contains(passed), "\(passed)")
        let other = limiter.allow("b", now: 10.5)
        #expect(other, "clients have buckets of their own")
    }

    @Test("a message the server asked for gives its token back; refunds never exceed the burst")
    func refunds() {
        var limiter = RateLimiter(perSecond: 1, burst: 2)
        // 100 solicited messages at one instant: each takes a token and gets it back.
        var allowed = 0
        for _ in 0..<100 where limiter.allow("a", now: 0) {
            allowed += 1
            limiter.refund("a")
        }
        #expect(allowed == 100)
        limiter.refund("a")
        limiter.refund("a")
        let unasked = (0..<10).filter { _ in limiter.allow("a", now: 0) }.count
        #expect(unasked == 2, "still the burst for what nobody asked for")
        limiter.refund("never-seen")
        #expect(limiter.trackedKeys == 1, "a refund creates no bucket")
    }

    @Test("idle clients are forgotten, so invented identities cannot grow the table")
    func pruning() {
        var limiter = RateLimiter(perSecond: 1, burst: 2)
        for index in 0..<1000 { _ = limiter.allow("peer-\(index)", now: Double(index) * 0.001) }
        #expect(limiter.trackedKeys == 1000)
        _ = limiter.allow("late", now: 100)
        #expect(limiter.trackedKeys == 1)
    }

    @Test("rate-limit warnings: the first at once, then one per 10 s with the count dropped in between")
    func warnings() {
        var report = RateLimitReport()
        var counts: [Int?] = []
        for second in 0...10 { counts.append(report.record("a", now: Double(second))) }
        #expect(counts == [1] + Array(repeating: nil, count: 9) + [10])
        let other = report.record("b", now: 10)
        #expect(other == 1)
    }
}

@Suite("security: and the loopback rule")
struct SecuritySectionTests {
    @Test("server keys come in pairs, with paths")
    func pairs() {
        #expect(
            refusal(of: "security:\n  server_secret_key: keys/server.key\n")?.contains("security.allowed_clients")
                == true)
        #expect(
            refusal(of: "security:\n  allowed_clients: keys/allowed\n")?.contains("security.server_secret_key") == true)
        #expect(refusal(of: "security:\n  client_key: ''\n")?.contains("security.client_key") == true)
        #expect(refusal(of: "security:\n  server_key: x\n")?.contains("server_key") == true, "unknown keys are named")
        #expect(refusal(of: "security:\n  server_public_key: keys/server.pub\n  client_key: keys/{name}.key\n") == nil)
    }

    @Test("a client's key path fills in its index and name; missing files name the file")
    func clientKeyPath() throws {
        let configuration = try decodeConfiguration(
            "security:\n  server_public_key: /nonexistent/server.pub\n  client_key: /nonexistent/{name}-{index}.key\n")
        let error = #expect(throws: RuntimeError.self) {
            _ = try configuration.security.loadClientKeys(index: 3, name: "client-3")
        }
        #expect(error?.message.contains("/nonexistent/server.pub") == true)
        #expect(
            try decodeConfiguration("server:\n  bind: tcp://127.0.0.1:7070\n").security.loadClientKeys(
                index: 0, name: "c") == nil)
    }

    @Test("which bind addresses count as loopback")
    func loopback() throws {
        for (bind, loopback) in [
            ("tcp://127.0.0.1:7070", true), ("tcp://localhost:7070", true), ("tcp://127.0.1.1:7070", true),
            ("tcp://0.0.0.0:7070", false), ("tcp://*:7070", false), ("tcp://10.0.0.1:7070", false),
            ("tcp://eth0:7070", false),
        ] {
            var section = ServerSection()
            section.bind = bind
            #expect(section.bindsLoopbackOnly == loopback, "\(bind)")
        }
    }

    @Test("server.bind takes IPv4, names, * and bracketed IPv6 addresses, and refuses the rest")
    func bindForms() throws {
        for bind in ["tcp://127.0.0.1:7070", "tcp://*:7070", "tcp://eth0:7070", "tcp://[::1]:7070", "tcp://[::]:1"] {
            #expect(ServerSection.isTCPEndpoint(bind), "\(bind)")
            #expect(throws: Never.self) { try decodeConfiguration("server:\n  bind: '\(bind)'\n") }
        }
        for bind in [
            "127.0.0.1:7070", "tcp://::1:7070", "tcp://[::1]", "tcp://[::1]:", "tcp://[::1]:70000", "tcp://:7070",
            "tcp://[]:7070", "tcp://[::1:7070", "tcp://host:+70", "udp://[::1]:7070",
        ] {
            #expect(!ServerSection.isTCPEndpoint(bind), "\(bind)")
        }
        var section = ServerSection()
        section.bind = "tcp://[::1]:7070"
        #expect(section.bindsLoopbackOnly && section.bindHost == "[::1]")
    }

    @Test("rate-limit keys are validated")
    func rateLimitKeys() {
        #expect(
            refusal(of: "server:\n  max_messages_per_second: 0\n")?.contains("server.max_messages_per_second") == true)
        #expect(refusal(of: "server:\n  max_joins_per_minute: -1\n")?.contains("server.max_joins_per_minute") == true)
    }

    @Test("a server on a non-loopback address without CURVE refuses to start unless insecure")
    func insecureRule() async throws {
        var configuration = try decodeConfiguration(
            "server:\n  bind: tcp://0.0.0.0:7070\n  database: /nonexistent/x.sqlite\n")
        configuration.data.directory = "/nonexistent"
        let error = await #expect(throws: RuntimeError.self) {
            _ = try await FederationServer(
                configuration: configuration, configurationText: "", logger: .init(label: "t"))
        }
        #expect(error?.message.contains("--insecure") == true)
        // With --insecure the check passes and the next problem (no data here) is reported instead.
        let next = await #expect(throws: (any Error).self) {
            _ = try await FederationServer(
                configuration: configuration, configurationText: "", logger: .init(label: "t"), insecure: true)
        }
        #expect("\(next.map { "\($0)" } ?? "")".contains("--insecure") == false)
    }
}
