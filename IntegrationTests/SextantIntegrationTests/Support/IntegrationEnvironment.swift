import Foundation
import Testing

/// Where the integration tests find the release executables and the dataset, and whether
/// they run at all.
///
/// The suite runs only with `SEXTANT_INTEGRATION=1`, so a plain `swift test` stays quick.
/// When it runs, a missing executable or dataset is a failure, never a skip: a CI job that
/// asked for the integration tests must not pass without running them.
enum IntegrationEnvironment {
    static var isEnabled: Bool {
        ProcessInfo.processInfo.environment["SEXTANT_INTEGRATION"] == "1"
    }

    /// `SEXTANT_BIN`, or `<package root>/.build/release` (the executables under test are
    /// release builds: `swift build -c release`).
    static var binDirectory: URL {
        if let path = ProcessInfo.processInfo.environment["SEXTANT_BIN"], !path.isEmpty {
            return URL(fileURLWithPath: path, isDirectory: true)
        }
        return packageRoot.appendingPathComponent(".build/release", isDirectory: true)
    }

    /// This file is `<root>/IntegrationTests/SextantIntegrationTests/Support/IntegrationEnvironment.swift`.
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // Support
            .deletingLastPathComponent()  // SextantIntegrationTests
            .deletingLastPathComponent()  // IntegrationTests
            .deletingLastPathComponent()
    }

    /// `SEXTANT_FASHION_MNIST`, or where Debian's dataset-fashion-mnist installs it.
    static var datasetDirectory: URL {
        if let path = ProcessInfo.processInfo.environment["SEXTANT_FASHION_MNIST"], !path.isEmpty {
            return URL(fileURLWithPath: path, isDirectory: true)
        }
        return URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist", isDirectory: true)
    }

    /// Keep each test's directory (configs, logs, database) for inspection: `SEXTANT_KEEP_TEMP=1`.
    static var keepsTemporaryFiles: Bool {
        ProcessInfo.processInfo.environment["SEXTANT_KEEP_TEMP"] == "1"
    }

    /// The path of an executable under test, or a recorded failure naming what to build.
    static func executable(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> URL {
        let url = binDirectory.appendingPathComponent(name)
        try #require(
            FileManager.default.isExecutableFile(atPath: url.path),
            "\(url.path) is missing: run `swift build -c release` first, or set SEXTANT_BIN",
            sourceLocation: sourceLocation)
        return url
    }

    /// Fails the test when the Fashion-MNIST files are not installed.
    static func requireDataset(sourceLocation: SourceLocation = #_sourceLocation) throws {
        for file in [
            "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
        ] {
            let path = datasetDirectory.appendingPathComponent(file).path
            try #require(
                FileManager.default.fileExists(atPath: path),
                "Fashion-MNIST file \(path) is missing: install Debian's dataset-fashion-mnist or set SEXTANT_FASHION_MNIST",
                sourceLocation: sourceLocation)
        }
    }
}
