import Foundation
import SextantBenchmarks
import Testing

@testable import SextantClient
@testable import SextantLauncher
@testable import SextantRuntime
@testable import SextantServer
@testable import SextantSimulation

@Suite struct ServerStatusTests {
    static let seen = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z

    static let sample = ServerStatus(
        runID: "demo-1767225600", status: "running", modelVersion: 7, maxVersions: 40, accuracy: 0.8125, epsilon: nil,
        scheduler: "compass", uptimeSeconds: 65.5,
        clients: [
            .init(
                name: "client-0", samples: 1200, peer: "127.0.0.1", lastSeen: seen, idleSeconds: 0.25,
                secondsPerStep: 0.02,
                arrivalGroup: 3, assignedSteps: 80),
            .init(name: "client-1", samples: 900, peer: nil, lastSeen: seen, idleSeconds: 4),
        ])

    /// The wire format of /status, byte for byte: snake_case, sorted keys, ISO 8601 dates,
    /// and unknown values as null (not missing), which scripts and `sextant status` rely on.
    @Test func encodesToTheDocumentedJSON() throws {
        let json = String(decoding: try ServerStatus.makeEncoder().encode(Self.sample), as: UTF8.self)
        #expect(
            json == """
                {
                  "accuracy" : 0.8125,
                  "clients" : [
                    {
                      "arrival_group" : 3,
                      "assigned_steps" : 80,
                      "idle_seconds" : 0.25,
                      "last_seen" : "2026-01-01T00:00:00Z",
                      "name" : "client-0",
                      "peer" : "127.0.0.1",
                      "samples" : 1200,
                      "seconds_per_step" : 0.02
                    },
                    {
                      "arrival_group" : null,
                      "assigned_steps" : null,
                      "idle_seconds" : 4,
                      "last_seen" : "2026-01-01T00:00:00Z",
                      "name" : "client-1",
                      "peer" : null,
                      "samples" : 900,
                      "seconds_per_step" : null
                    }
                  ],
                  "epsilon" : null,
                  "federated_evaluation" : null,
                  "guarantee" : null,
                  "max_versions" : 40,
                  "model_version" : 7,
                  "run_id" : "demo-1767225600",
                  "scheduler" : "compass",
                  "secure_aggregation" : null,
                  "status" : "running",
                  "uptime_seconds" : 65.5
                }
                """)
    }

    @Test func decodesWhatItEncodes() throws {
        let data = try ServerStatus.makeEncoder().encode(Self.sample)
        #expect(try ServerStatus.makeDecoder().decode(ServerStatus.self, from: data) == Self.sample)
    }

    @Test func theTerminalViewListsEveryClient() {
        let text = StatusText.render(Self.sample)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "run demo-1767225600  running  version 7/40  accuracy 81.25%  scheduler compass  up 1m05s")
        #expect(lines[1] == "2 clients")
        #expect(lines[2].hasPrefix("CLIENT    SAMPLES  PEER       LAST SEEN  S/STEP  GROUP  STEPS"))
        #expect(lines[3] == "client-0  1200     127.0.0.1  0s ago     0.020   3      80")
        #expect(lines[4] == "client-1  900      ?          4s ago     -       -      -")
    }

    @Test("a federated evaluation is in the JSON and under the summary line")
    func federatedEvaluation() throws {
        var status = Self.sample
        status.federatedEvaluation = .init(
            version: 6, sites: 3, records: 340, metrics: ["accuracy": 0.9, "loss": 0.25, "macro_f1": 0.875])
        let data = try ServerStatus.makeEncoder().encode(status)
        #expect(try ServerStatus.makeDecoder().decode(ServerStatus.self, from: data) == status)
        let json = String(decoding: data, as: UTF8.self)
        #expect(json.contains(#""federated_evaluation" : {"#))
        let lines = StatusText.render(status).split(separator: "\n").map(String.init)
        #expect(
            lines[1]
                == "federated evaluation of version 6 (3 sites, 340 records): accuracy 0.9000  loss 0.2500  macro_f1 0.8750"
        )
    }

    @Test("secure aggregation's cohorts are in the JSON and under the summary line")
    func secureAggregation() throws {
        var status = Self.sample
        status.secureAggregation = .init(cohortsCompleted: 5, cohortsAbandoned: 1, membersDropped: 2, cohortsOpen: 1)
        let data = try ServerStatus.makeEncoder().encode(status)
        #expect(try ServerStatus.makeDecoder().decode(ServerStatus.self, from: data) == status)
        let json = String(decoding: data, as: UTF8.self)
        #expect(json.contains(#""cohorts_completed" : 5"#) && json.contains(#""members_dropped" : 2"#))
        let lines = StatusText.render(status).split(separator: "\n").map(String.init)
        #expect(lines[1] == "secure aggregation: 5 cohorts unmasked, 1 abandoned, 2 members dropped, 1 open")
    }

    @Test(arguments: [(0.4, "0s"), (59.9, "59s"), (60, "1m00s"), (3599, "59m59s"), (3600, "1h00m"), (-3, "0s")])
    func durationsAreShort(seconds: Double, expected: String) {
        #expect(StatusText.duration(seconds) == expected)
    }
}

@Suite struct MetricsAddressTests {
    @Test(arguments: [
        ("127.0.0.1:9464", "127.0.0.1", 9464, MetricsAddress.Family.ipv4),
        ("localhost:80", "127.0.0.1", 80, .ipv4),
        ("*:9464", "0.0.0.0", 9464, .ipv4),
        ("0.0.0.0:1", "0.0.0.0", 1, .ipv4),
        ("[::1]:9464", "::1", 9464, .ipv6),
    ])
    func parses(text: String, host: String, port: Int, family: MetricsAddress.Family) throws {
        let address = try #require(MetricsAddress(parsing: text))
        #expect(address.host == host)
        #expect(Int(address.port) == port)
        #expect(address.family == family)
    }

    @Test(arguments: [
        "9464", ":9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+80",
        "example.com:9464", "::1:9464", "[::1]9464", "[127.0.0.1]:80", "http://127.0.0.1:9464", "256.0.0.1:80",
    ])
    func refuses(text: String) {
        #expect(MetricsAddress(parsing: text) == nil)
    }

    @Test func loopbackIsRecognised() {
        #expect(MetricsAddress(parsing: "127.0.0.1:1")?.isLoopback == true)
        #expect(MetricsAddress(parsing: "[::1]:1")?.isLoopback == true)
        #expect(MetricsAddress(parsing: "0.0.0.0:1")?.isLoopback == false)
    }

    @Test func theConfigurationKeyIsOffByDefaultAndValidated() throws {
        #expect(try decodeConfiguration("{}").server.metricsAddress == nil)
        let on = try decodeConfiguration("server: {metrics_bind: '127.0.0.1:9464'}")
        #expect(try on.server.metricsAddress == MetricsAddress(host: "127.0.0.1", port: 9464, family: .ipv4))
        let message = refusal(of: "server: {metrics_bind: 'localhost'}")
        #expect(
            message?.contains("key 'server.metrics_bind' has value 'localhost'") == true,
            "got: \(message ?? "no error")")
    }

    /// The status line prints what the epsilon protects beside it.
    @Test func theEpsilonIsPrintedWithItsGuarantee() {
        var status = ServerStatusTests.sample
        status.epsilon = 1.5
        status.guarantee = "client-level, zero-out adjacency, participation public, delta=1e-05"
        let first = StatusText.render(status).split(separator: "\n")[0]
        #expect(
            first.contains("epsilon 1.500 (client-level, zero-out adjacency, participation public, delta=1e-05)"))
    }
}
