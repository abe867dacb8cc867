// swift-tools-version:6.0
import PackageDescription

// MARK: - The main package, by path

// SwiftPM names a path dependency after its directory, which is whatever a clone is called
// ("main" here, something else in CI): read it off this manifest's own path.
let sextantDirectory = #filePath.split(separator: "/").dropLast(2).last.map(String.init) ?? "Sextant"

// MARK: - Settings shared by every target

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "SextantFuzzTesting",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "..")
    ],
    targets: [
        // MARK: - Fuzz target (build with -sanitize=fuzzer,address -parse-as-library)

        .executableTarget(
            name: "WireDecoderFuzzer",
            dependencies: [.product(name: "SextantWire", package: sextantDirectory)],
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "AllowListFuzzer",
            dependencies: [.product(name: "SextantWire", package: sextantDirectory)],
            swiftSettings: swiftSettings
        ),

        // MARK: - Seed corpus generator (build without sanitizers)

        .executableTarget(
            name: "WireFuzzSeeds",
            dependencies: [.product(name: "SextantWire", package: sextantDirectory)],
            swiftSettings: swiftSettings
        ),
    ]
)
