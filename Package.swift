// swift-tools-version:6.0
import PackageDescription

// MARK: - Settings shared by every target

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Sextant",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sextant-server", targets: ["sextant-server"]),
        .executable(name: "sextant-client", targets: ["sextant-client"]),
        .executable(name: "sextant-audit", targets: ["sextant-audit"]),
        .executable(name: "sextant", targets: ["sextant"]),
        // For the fuzz target in FuzzTesting/, a package of its own.
        .library(name: "SextantWire", targets: ["SextantWire"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // Observability: the metrics API, its Prometheus backend and an HTTP server on its own
        // NIO event loop, with the channel handlers that bound what a connection may send.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // sextant-server's start, stop and signals.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The ONNX export: the runtime library only; the message code is generated once and
        // committed (Sources/SextantONNX/onnx.pb.swift, scripts/generate-onnx-swift.sh).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // MARK: - C system libraries

        .systemLibrary(name: "CZeroMQ", path: "Sources/CZeroMQ"),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // Header only: the CRC-32C of the store's delta segments, with SSE 4.2 where present.
        .systemLibrary(name: "CCRC32C", path: "Sources/CCRC32C"),

        // MARK: - Pure libraries (no network, no storage)

        // Seeded randomness and small helpers shared by every pure library; no C, no I/O.
        .target(
            name: "SextantBase",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SextantML",
            dependencies: ["SextantBase", "CBLAS", "CZlib"],
            swiftSettings: swiftSettings
        ),
        // The ONNX export of a trained model (safetensors and npz live in SextantML).
        .target(
            name: "SextantONNX",
            dependencies: ["SextantML", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: swiftSettings
        ),
        // Schedulers as state machines: nothing numeric, so they build without BLAS.
        .target(
            name: "SextantScheduling",
            dependencies: ["SextantBase"],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "SextantPrivacy",
            dependencies: [],
            swiftSettings: swiftSettings
        ),

        // The one aggregation core: scheduler, model, accumulator, optimizer, clipping and
        // noise; driven by the daemon, the simulator, the audit and the tests.
        .target(
            name: "SextantAggregation",
            dependencies: ["SextantBase", "SextantScheduling", "SextantPrivacy"],
            swiftSettings: swiftSettings
        ),

        // Secure aggregation (docs/secure-aggregation.md): quantisation to a ring, the
        // SecAgg/SecAgg+ client and server state machines, distributed discrete Gaussian noise
        // and its accounting; messages in, messages out, no sockets.
        .target(
            name: "SextantSecureAggregation",
            dependencies: [
                "SextantBase", "SextantPrivacy",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - I/O libraries

        .target(
            name: "SextantWire",
            dependencies: [
                "CZeroMQ", "SextantBase",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SextantStore",
            dependencies: [
                "CCRC32C",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "SextantAudit",
            dependencies: ["SextantML", "SextantStore", "SextantAggregation", "SextantScheduling"],
            swiftSettings: swiftSettings
        ),

        // MARK: - Runtime and executables

        .target(
            name: "SextantRuntime",
            dependencies: [
                "SextantML", "SextantScheduling", "SextantAggregation", "SextantPrivacy", "SextantWire", "SextantStore",
                "SextantAudit", "SextantSecureAggregation",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // The server daemon's core: admission, the update path into the aggregation core,
        // checkpoints, farewells; an actor on a thread of its own.
        .target(
            name: "SextantServer",
            dependencies: [
                "SextantRuntime", "SextantML", "SextantScheduling", "SextantAggregation", "SextantPrivacy",
                "SextantWire", "SextantSecureAggregation",
                "SextantStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // A client: local training (plain or DP-SGD) and its protocol with the server.
        .target(
            name: "SextantClient",
            dependencies: [
                "SextantBase", "SextantRuntime", "SextantML", "SextantPrivacy", "SextantWire",
                "SextantSecureAggregation",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // A whole federation on one host from one configuration (`sextant launch`).
        .target(
            name: "SextantLauncher",
            dependencies: [
                "SextantRuntime",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The schedulers compared on a virtual clock with real local training (`sextant simulate`).
        .target(
            name: "SextantSimulation",
            dependencies: [
                "SextantRuntime", "SextantML", "SextantScheduling", "SextantAggregation",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Benchmarks of the hot paths, each as a ratio to a limit measured in the same run;
        // only the operator tool links them.
        .target(
            name: "SextantBenchmarks",
            dependencies: [
                "CBLAS", "SextantML", "SextantAggregation", "SextantScheduling", "SextantRuntime", "SextantWire",
                "SextantStore", "SextantSecureAggregation", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The server's /metrics, /status and HTML page; only the server executable links it.
        .target(
            name: "SextantObservability",
            dependencies: [
                "SextantRuntime", "SextantServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "sextant-server",
            dependencies: [
                "SextantRuntime", "SextantServer", "SextantML", "SextantStore", "SextantObservability",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "sextant-client",
            dependencies: [
                "SextantRuntime", "SextantClient", "SextantML", "SextantStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "sextant-audit",
            dependencies: [
                "SextantRuntime", "SextantML", "SextantStore", "SextantAudit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "sextant",
            dependencies: [
                "SextantRuntime", "SextantClient", "SextantLauncher", "SextantSimulation", "SextantML", "SextantStore",
                "SextantWire", "SextantScheduling", "SextantBenchmarks", "SextantONNX", "SextantSecureAggregation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Tests

        .target(
            name: "SextantTestSupport",
            dependencies: ["SextantML"],
            path: "Sources/SextantTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SextantMLTests",
            dependencies: ["SextantML", "SextantONNX", "SextantTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SextantWireTests",
            dependencies: ["SextantWire", "SextantTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SextantStoreTests",
            dependencies: ["SextantStore", "SextantTestSupport", "CCRC32C"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SextantIntegrationTests",
            dependencies: ["SextantML", "SextantWire", "SextantStore", "SextantTestSupport"],
            path: "IntegrationTests/SextantIntegrationTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SextantPrivacyTests",
            dependencies: ["SextantPrivacy", "SextantTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SextantAuditTests",
            dependencies: ["SextantAudit", "SextantTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SextantRuntimeTests",
            dependencies: [
                "SextantRuntime", "SextantServer", "SextantClient", "SextantLauncher", "SextantSimulation",
                "SextantBenchmarks", "SextantAudit", "SextantPrivacy", "SextantWire", "SextantAggregation",
                "SextantScheduling", "SextantSecureAggregation", "SextantTestSupport",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SextantObservabilityTests",
            dependencies: [
                "SextantObservability", "SextantRuntime", "SextantServer", "SextantWire", "SextantTestSupport",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SextantSchedulingTests",
            dependencies: ["SextantScheduling", "SextantAggregation", "SextantBase"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SextantSecureAggregationTests",
            dependencies: [
                "SextantSecureAggregation", "SextantBase",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SextantAggregationTests",
            dependencies: ["SextantAggregation", "SextantScheduling", "SextantPrivacy"],
            swiftSettings: swiftSettings
        ),
    ]
)
