// swift-tools-version:6.0
import PackageDescription

// The CSV parser of SextantML (its sources linked into the target Ours) against the CSV
// packages of the Swift ecosystem, on the same file. A package of its own, so that the
// project does not depend on them.
let package = Package(
    name: "CSVComparison",
    dependencies: [
        .package(url: "https://github.com/swiftcsv/SwiftCSV", exact: "0.10.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", exact: "2.5.2"),
    ],
    targets: [
        .target(name: "Ours", swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(
            name: "csv-comparison",
            dependencies: [
                "Ours", .product(name: "SwiftCSV", package: "SwiftCSV"), .product(name: "CSV", package: "CSV.swift"),
            ],
            path: "Sources/bench",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ]
)
